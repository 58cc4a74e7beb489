"""A worker killed holding a target's lock, on a Prefect server that outlives it.

The server keeps the dead run's lease. The next command frees exactly that lease, so
when its expiry passes the server has nothing left to free: the run admitted meanwhile
keeps the target to itself, and a third run is not admitted while it holds it.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from sqlmodel import Session, select

from deployments.services import prefect_server
from models.db import make_engine
from models.migrate import upgrade
from models.recovery import AuditEvent, RecoveryAudit
from models.settings import Settings
from models.vocabulary.run_states import RunState
from tasks.recovery.lock import ensure_limit, limit_name, release_dead_lease, target_lock
from tasks.recovery.store import recent_runs

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 60  # the least the Prefect server accepts


def test_a_lease_frees_its_slot_once_however_often_a_finder_releases_it(prefect_harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    target = f"web-{uuid4().hex[:8]}"
    with target_lock(target) as first, target_lock(target) as second:
        assert first is not None and second is None  # the lock: one holder
    name = limit_name(target)
    ensure_limit(name)
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=2))
        taken = [client.increment_concurrency_slots_with_lease([name], 1, "concurrency", 60)]
        taken.append(client.increment_concurrency_slots_with_lease([name], 1, "concurrency", 60))
        dead, alive = (UUID(answer.json()["lease_id"]) for answer in taken)
        freed = [release_dead_lease(client, dead) for _ in range(3)]
        assert freed == [True, False, False]
        assert client.read_global_concurrency_limit_by_name(name).active_slots == 1  # alive's
        assert release_dead_lease(client, alive) is True
        assert client.read_global_concurrency_limit_by_name(name).active_slots == 0


@pytest.mark.slow  # a Prefect server, four `vigil recovery run` processes, a lease's expiry
def test_a_dead_workers_lease_is_freed_once_so_its_expiry_cannot_admit_a_second_run(tmp_path):
    server, api = _start_server(tmp_path)
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db)
    engine = make_engine(db)
    files = {n: tmp_path / n for n in ("slow-started", "hold-started", "hold-release")}
    config = tmp_path / "vigil.yaml"
    config.write_text(_CONFIG.format(**{k.replace("-", "_"): v for k, v in files.items()}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VIGIL_"))}
    env |= {"PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "client-home")}
    env |= {"VIGIL_RECOVERY_LEASE_SECONDS": str(LEASE_SECONDS)}
    env |= {"VIGIL_STATE_DIR": str(tmp_path / ".vigil")}  # ours: --as-admin works
    (tmp_path / ".vigil").mkdir()
    argv = [sys.executable, "-m", "vigil.cli", "recovery", "run", "--config", str(config)]
    argv += ["--db", db, "-t", "web-1", "--as-admin"]
    spawned: list[subprocess.Popen] = []

    def start(procedure: str) -> subprocess.Popen:
        spawned.append(
            subprocess.Popen(
                [*argv, procedure],
                env=env,
                cwd=REPO,
                start_new_session=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        return spawned[-1]

    try:
        dead = start("slow")
        _wait_for(lambda: files["slow-started"].exists() or dead.poll() is not None, 240)
        assert dead.poll() is None, dead.communicate()[1]
        (killed,) = recent_runs(engine)
        assert killed.lock_lease_id is not None  # recorded when it took the lock
        lease_file = tmp_path / "prefect" / "concurrency_leases" / f"{killed.lock_lease_id}.json"
        lease = json.loads(lease_file.read_text())
        assert lease["metadata"]["holder"] == {"type": "flow_run", "id": killed.flow_run_id}
        expires = datetime.fromisoformat(lease["expiration"])
        dead.send_signal(signal.SIGKILL)
        dead.wait(10)
        assert _active_slots(api) == 1  # the dead run's slot, still leased

        holder = start("hold")  # finds the dead run, frees its lease, takes the lock
        _wait_for(lambda: files["hold-started"].exists() or holder.poll() is not None, 240)
        assert holder.poll() is None, holder.communicate()[1]
        assert not lease_file.exists()  # revoked: its expiry has nothing to free
        assert _active_slots(api) == 1  # the holder's own slot

        # Past the dead lease's expiry (the server looks for expired leases every second).
        _wait_for(lambda: datetime.now(UTC).timestamp() > expires.timestamp() + 5, 120)
        assert _active_slots(api) == 1
        third = start("quick")
        out, err = third.communicate(timeout=300)
        assert out.startswith("skipped"), (out, err)

        files["hold-release"].touch()
        out, err = holder.communicate(timeout=120)
        assert out.startswith("succeeded"), (out, err)
        assert f"recovery run {killed.id} of" in err and "its worker died" in err
        assert "released the recovery lock of target web-1" in err
        assert _active_slots(api) == 0
        fourth = start("quick")
        out, err = fourth.communicate(timeout=300)
        assert out.startswith("succeeded") and "marked failed" not in err, (out, err)
    finally:
        for process in spawned:
            if process.poll() is None:
                process.kill()
            with suppress(ProcessLookupError):  # the steps' orphaned children
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        server.terminate()
        server.wait(30)

    # Admissions: a run row for each run that took the lock, with its lease; none for the third.
    runs = sorted(recent_runs(engine), key=lambda r: r.id or 0)
    assert [(r.procedure, r.state) for r in runs] == [
        ("slow", RunState.FAILED),
        ("hold", RunState.SUCCEEDED),
        ("quick", RunState.SUCCEEDED),
    ]
    assert len({r.lock_lease_id for r in runs}) == 3 and all(r.lock_lease_id for r in runs)
    with Session(engine) as session:
        skipped = session.exec(
            select(RecoveryAudit.detail).where(RecoveryAudit.event == AuditEvent.SKIPPED)
        ).all()
    assert skipped == [f"gave up after waiting 0:00:03 for run {runs[1].id} of hold on web-1"]
    engine.dispose()


_CONFIG = """
procedures:
  - name: slow
    limits: {{cooldown: 0s}}
    steps:
      - {{name: drain, type: command, argv: [sh, -c, 'touch "{slow_started}"; exec sleep 600']}}
  - name: hold
    limits: {{cooldown: 0s}}
    steps:
      - name: wait-for-release
        type: command
        timeout: 10m
        argv: [sh, -c, 'touch "{hold_started}"; until [ -e "{hold_release}" ]; do sleep 1; done']
  - name: quick
    limits: {{cooldown: 0s, queue_timeout: 3s}}
    steps:
      - {{name: restart, type: command, argv: ["true"]}}
"""


def _start_server(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """`vigil up`'s Prefect server (leases on disk), its expiry check every second."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = prefect_server(Settings(state_dir=tmp_path, prefect_port=port))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= service.env | {
        "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    }
    with (tmp_path / "prefect-server.log").open("w") as log:
        server = subprocess.Popen(service.argv, env=env, stdout=log, stderr=log)
    api = f"http://127.0.0.1:{port}/api"
    _wait_for(lambda: _healthy(api) or server.poll() is not None, 240)
    assert server.poll() is None, (tmp_path / "prefect-server.log").read_text()[-2000:]
    return server, api


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _active_slots(api: str) -> int:
    answer = httpx.get(f"{api}/v2/concurrency_limits/{limit_name('web-1')}", timeout=10)
    answer.raise_for_status()
    return int(answer.json()["active_slots"])


def _wait_for(condition, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout_s:g} s"
        time.sleep(0.2)
