"""Recoveries over HTTP: dry run, a real run through the safety gate, approval, the audit."""

import threading
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models.config.dashboard import Role
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun
from tasks.recovery.approval import answer_approval
from tasks.recovery.steps import engine_for
from tests.api.conftest import Api, start_api

START = {"procedure": "restart-web", "target": "web-1"}


def test_a_dry_run_renders_the_steps_and_audits_the_token(sqlite_api: Api):
    with sqlite_api.client(Role.OPERATOR) as http:
        dry = http.post("/api/v1/recoveries", json={**START, "dry_run": True})
        shown = http.get(f"/api/v1/recoveries/{dry.json()['id']}").json()
        listed = http.get("/api/v1/recoveries").json()
        unknown = http.post("/api/v1/recoveries", json={**START, "procedure": "nope"})
    assert dry.status_code == 200, dry.text
    assert dry.json()["state"] == "dry_run" and dry.json()["steps"]
    assert [(a["event"], a["actor"]) for a in shown["audit"]] == [
        ("triggered", "olga/olga-bot"),
        ("dry_run", "olga/olga-bot"),
    ]
    assert [r["id"] for r in listed] == [shown["id"]]
    assert sqlite_api.launched == []  # a dry run launches nothing
    assert unknown.status_code == 422 and unknown.json()["field"] == "procedure"
    assert "known: restart-web" in unknown.json()["reason"]


def test_a_started_run_passes_the_safety_gate_waits_and_is_approved_as_the_token(
    prefect_harness, tmp_path: Path, api_config_path: Path, serve_with
):
    """The admitted run is launched as the served deployment would run it: the real
    ``recover`` flow with the run's id (here in a thread of this process)."""
    from flows.recover import recover
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade(url)
    serve_with(api_config_path, url)
    outcomes: list[str] = []

    def launch(run: RecoveryRun) -> Any:
        def body() -> None:
            outcomes.append(
                recover(run.procedure, run.target, labels={}, trigger=run.trigger, run_id=run.id)
            )

        threading.Thread(target=body, daemon=True).start()

    api, server = start_api(url, api_config_path, launch=launch, answer=answer_approval)
    try:
        with api.client(Role.OPERATOR) as http:
            started = http.post("/api/v1/recoveries", json=START)
            run_id = started.json()["id"]
            waiting = _wait_for_state(http, run_id, "awaiting_approval")
            approved = http.post(f"/api/v1/recoveries/{run_id}/approve", json={"reason": "go"})
            done = _wait_for_state(http, run_id, "succeeded")
            again = http.post("/api/v1/recoveries", json=START)
    finally:
        server.close()
    assert started.status_code == 202, started.text
    assert waiting["state"] == "awaiting_approval"
    assert approved.json() == {
        "id": run_id,
        "decision": "approved",
        "by": "olga/olga-bot",
        "reason": "go",
    }
    assert done["trigger"] == "api:olga/olga-bot"
    # the approver is the token's user (one of the form's operators), on the API path
    people = [(a.event, a.actor, a.path) for a in audit_rows(url) if a.event == AuditEvent.APPROVED]
    assert people == [(AuditEvent.APPROVED, "olga", "api")]
    # the gate audits the trigger before a run exists (no run id): as the token too
    triggers = [(a.actor, a.detail) for a in audit_rows(url) if a.event == AuditEvent.TRIGGERED]
    assert triggers == [("olga/olga-bot", "api:olga/olga-bot")] * 2
    assert again.status_code == 409
    assert again.json()["reason"].startswith("the safety gate refused: ")


def audit_rows(url: str) -> list[RecoveryAudit]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(RecoveryAudit).order_by(RecoveryAudit.id)))


def _wait_for_state(http: Any, run_id: int, state: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shown = http.get(f"/api/v1/recoveries/{run_id}").json()
        if shown["state"] == state:
            return shown
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} did not reach {state}: {shown}")
