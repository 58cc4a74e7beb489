"""Alertmanager's own clients against Vigil: a real Prometheus hands its alerts to Vigil's
lifecycle (notified to a real webhook, then resolved), and amtool queries and silences.

Both present an operator token: Prometheus in ``alerting.alertmanagers[].authorization``,
amtool in the file of ``--http.config.file``."""

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.config import parse_config
from models.config.dashboard import Role
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tests.alerting.helpers import Webhook
from tests.api.conftest import compat_app
from tests.ports import free_port

CONFIG = """
channels:
  - {{name: hook, url: '{hook}'}}
alerting:
  default: {{group_wait: 0s, group_interval: 1s, group_by: [alertname]}}
  resolve_timeout: {timeout}
"""
PROMETHEUS = """
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ['127.0.0.1:{port}']}}]
      path_prefix: /alertmanager
      api_version: v2
      authorization: {{credentials: {token}}}
"""
RULES = """
groups:
  - name: vigil-test
    interval: 1s
    rules:
      - alert: QueueTooDeep
        expr: vector(time()) < {until}
        labels: {{severity: critical, team: ops}}
        annotations: {{summary: the queue is too deep}}
"""


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def vigil(tmp_path: Path, webhook: Webhook, serve, password_hash: str):  # type: ignore[no-untyped-def]
    """Vigil's API app with its alert engine delivering in the background (as `vigil up`).

    ``start`` returns the server, the engine and the token of each role.
    """

    def start(timeout: str = "5m", more: str = ""):  # type: ignore[no-untyped-def]
        url = f"sqlite:///{tmp_path / 'vigil.db'}"
        upgrade(url)
        db = make_engine(url)
        text = CONFIG.format(hook=webhook.url, timeout=timeout) + more
        engine = AlertEngine(db, build_plan(parse_config(text)), store=MetricStore(db), emit=None)
        engine.outbox.start()
        started.append(engine)
        app, tokens = compat_app(MetricStore(db), text, password_hash, engine)
        return serve(app), engine, tokens

    started: list[AlertEngine] = []
    yield start
    for engine in started:
        engine.outbox.stop()
        engine.db.dispose()


def wait_for(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def alert_rows(engine: AlertEngine) -> list[dict]:
    with engine.db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(Alert.__table__))]


def test_a_real_prometheus_alert_is_notified_by_vigil_and_then_resolved(
    vigil, webhook: Webhook, tmp_path: Path
) -> None:
    served, engine, tokens = vigil()
    prometheus_yml = PROMETHEUS.format(port=served.port, token=tokens[Role.OPERATOR])
    (tmp_path / "prometheus.yml").write_text(prometheus_yml)
    # Prometheus learns its Alertmanagers ~5 s after it starts (discovery is throttled); the
    # rule fires for 10 s, re-sent every second, then resolves.
    (tmp_path / "rules.yml").write_text(RULES.format(until=time.time() + 10))
    prometheus = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{free_port()}",
            "--rules.alert.resend-delay=1s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(webhook.received) >= 2)
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=10)
    firing, resolved = webhook.titles()[:2]
    assert firing.startswith("[FIRING:1] QueueTooDeep")
    assert resolved.startswith("[RESOLVED] QueueTooDeep")
    assert "the queue is too deep" in webhook.received[0]["message"]
    [row] = alert_rows(engine)
    assert row["rule"] == "external/QueueTooDeep"
    assert json.loads(row["labels"]) == {
        "alertname": "QueueTooDeep",
        "severity": "critical",
        "team": "ops",
    }
    assert json.loads(row["annotations"]) == {"summary": "the queue is too deep"}
    assert row["state"] == "resolved"


def http_config(path: Path, token: str) -> Path:
    """Write the HTTP client config amtool reads to send ``token``; return its path."""
    path.write_text(f"authorization: {{type: Bearer, credentials: {token}}}\n")
    return path


def amtool(url: str, config: Path, *args: str) -> str:
    done = subprocess.run(
        ["amtool", f"--alertmanager.url={url}/alertmanager", f"--http.config.file={config}", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_amtool_adds_queries_silences_and_expires(vigil, webhook: Webhook, tmp_path: Path) -> None:
    served, engine, tokens = vigil()
    url = served.url, http_config(tmp_path / "amtool.yml", tokens[Role.OPERATOR])
    amtool(*url, "alert", "add", "DiskFull", "target=db-1", "--annotation=summary=disk")
    wait_for(lambda: webhook.titles() != [])
    assert webhook.titles()[0].startswith("[FIRING:1] DiskFull")
    [shown] = json.loads(amtool(*url, "alert", "query", "-o", "json"))
    assert shown["labels"] == {"alertname": "DiskFull", "target": "db-1"}
    assert shown["status"]["state"] == "active"

    silence_id = amtool(
        *url, "silence", "add", "target=db-1", "-c", "replacing the disk", "-d", "1h"
    ).strip()
    [silence] = json.loads(amtool(*url, "silence", "query", "-o", "json"))
    assert silence["id"] == silence_id and silence["status"]["state"] == "active"
    assert silence["matchers"] == [
        {"name": "target", "value": "db-1", "isRegex": False, "isEqual": True}
    ]
    assert silence["comment"] == "replacing the disk"
    assert json.loads(amtool(*url, "alert", "query", "-o", "json")) == []  # silenced
    [muted] = json.loads(amtool(*url, "alert", "query", "--silenced", "-o", "json"))
    assert muted["status"] == {"state": "suppressed", "silencedBy": [silence_id], "inhibitedBy": []}

    amtool(*url, "silence", "expire", silence_id)
    assert amtool(*url, "silence", "query", "-q").strip() == ""
    assert len(json.loads(amtool(*url, "alert", "query", "-o", "json"))) == 1
    # the token's holder is recorded, not only the free-text author amtool sent ($USER)
    with engine.db.connect() as conn:
        [stored] = repo.list_silences(conn, time.time(), include_expired=True)
    assert stored["created_by"].startswith("olga/olga-bot")
    assert stored["expired_by"] == "olga/olga-bot"


def test_amtool_shows_an_inhibited_alert_with_what_mutes_it_and_groups_follow_the_route(
    vigil, tmp_path: Path
) -> None:
    inhibit = "inhibit_rules:\n  - {source: '{severity=\"critical\"}', target: "
    inhibit += "'{severity=\"warning\"}', equal: [target]}\n"
    served, _, tokens = vigil(more=inhibit)
    url = served.url, http_config(tmp_path / "amtool.yml", tokens[Role.OPERATOR])
    amtool(*url, "alert", "add", "DiskFull", "target=db-1", "severity=critical")
    amtool(*url, "alert", "add", "DiskSlow", "target=db-1", "severity=warning")
    amtool(*url, "alert", "add", "DiskSlow", "target=db-2", "severity=warning")
    wait_for(lambda: len(json.loads(amtool(*url, "alert", "query", "-o", "json"))) == 2)
    shown = json.loads(amtool(*url, "alert", "query", "-o", "json"))
    assert sorted(a["labels"]["target"] for a in shown) == ["db-1", "db-2"]
    [muted] = json.loads(amtool(*url, "alert", "query", "--inhibited", "-o", "json"))
    [source] = [a for a in shown if a["labels"]["alertname"] == "DiskFull"]
    assert muted["labels"] == {"alertname": "DiskSlow", "target": "db-1", "severity": "warning"}
    assert muted["status"] == {
        "state": "suppressed",
        "silencedBy": [],
        "inhibitedBy": [source["fingerprint"]],
    }
    operator = {"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}
    groups = httpx.get(f"{served.url}/alertmanager/api/v2/alerts/groups", headers=operator)
    assert [
        (g["receiver"]["name"], g["labels"], sorted(a["labels"]["target"] for a in g["alerts"]))
        for g in groups.json()
    ] == [
        ("hook", {"alertname": "DiskFull"}, ["db-1"]),
        ("hook", {"alertname": "DiskSlow"}, ["db-1", "db-2"]),
    ]


def test_an_alert_not_sent_again_resolves_after_the_resolve_timeout(
    vigil, webhook: Webhook
) -> None:
    served, engine, tokens = vigil(timeout="1s")
    alert = {"labels": {"alertname": "Gone", "target": "web"}}
    operator = {"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}
    posted = httpx.post(f"{served.url}/alertmanager/api/v2/alerts", json=[alert], headers=operator)
    assert posted.status_code == 200
    wait_for(lambda: len(webhook.received) == 1)
    engine.sweep(time.time() + 0.5)  # re-sent within the timeout: still firing
    assert alert_rows(engine)[0]["state"] == "firing"
    engine.sweep(time.time() + 2)  # the sweep flow's tick after the timeout
    assert alert_rows(engine)[0]["state"] == "resolved"
    wait_for(lambda: len(webhook.received) == 2)
    assert webhook.titles()[1].startswith("[RESOLVED] Gone")


def test_bad_alerts_and_silences_are_refused_with_each_reason_and_good_ones_kept(vigil) -> None:
    served, engine, tokens = vigil()
    api = httpx.Client(
        base_url=f"{served.url}/alertmanager/api/v2",
        headers={"Authorization": f"Bearer {tokens[Role.OPERATOR]}"},
    )
    posted = [
        {"labels": {"alertname": "Fine"}},
        {"labels": {"job": "x"}},
        {"labels": {"alertname": "Late"}, "endsAt": "yesterday"},
    ]
    answer = api.post("/alerts", json=posted)
    assert answer.status_code == 400
    assert answer.json() == (
        "1 other alerts were accepted; alerts[1].labels.alertname: is missing; Vigil names the "
        "alert's rule after it; alerts[2].endsAt: 'yesterday' is not an RFC 3339 time"
    )
    assert [r["rule"] for r in alert_rows(engine)] == ["external/Fine"]
    silence = {
        "matchers": [{"name": "job", "value": "(", "isRegex": True}],
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2999-01-01T00:00:00Z",
        "createdBy": "ana",
        "comment": "",
    }
    refused = api.post("/silences", json=silence)
    assert refused.status_code == 400 and "bad regular expression '('" in refused.json()
    silence["matchers"] = [{"name": "job", "value": "x"}]
    silence["endsAt"] = "2020-01-01T00:00:00Z"
    refused = api.post("/silences", json=silence)
    assert refused.json() == "endsAt: is in the past; a silence must end in the future"
    assert api.delete("/silence/999").status_code == 404
    assert api.get("/status").json()["cluster"] == {"status": "disabled", "peers": []}


def test_a_viewer_token_may_not_add_a_silence(vigil) -> None:  # type: ignore[no-untyped-def]
    served, engine, tokens = vigil()
    silence = {
        "matchers": [{"name": "job", "value": "x", "isRegex": False}],
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2999-01-01T00:00:00Z",
        "createdBy": "vic",
        "comment": "",
    }
    refused = httpx.post(
        f"{served.url}/alertmanager/api/v2/silences",
        json=silence,
        headers={"Authorization": f"Bearer {tokens[Role.VIEWER]}"},
    )
    assert refused.status_code == 403
    assert refused.json() == {
        "reason": "token vic-bot (vic) is a viewer; this needs operator or above",
        "field": "Authorization",
    }
    with engine.db.connect() as conn:
        assert repo.list_silences(conn, time.time(), include_expired=True) == []
