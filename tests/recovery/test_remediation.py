"""Remediate, verify, then escalate, with real processes, a real process check and real flows.

A child HTTP service is watched by a process check; the rule's recovery restarts it with
the real ``recover`` flow on the Prefect test server. Launches are queued by the hook and
run by the test right after each check round, as the served deployment would run them. The
alert clock is controlled (``now`` passed to each round); nothing sleeps to make time pass.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from flows.recover import recover
from models.config import load_config
from models.db import make_engine
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.recovery.remediation import Remediator
from tasks.store import batch_hooks
from tests.alerting.helpers import Webhook
from tests.checks.rounds import run_round
from tests.recovery.conftest import Service, is_alive

CONFIG = """
targets: [{{name: web}}]
checks:
  - {{name: web-proc, type: process, target: web, cmdline: '{pattern}', max_attempts: 1}}
rules:
  - name: WebDown
    kind: check_state
    check: '{{check="web-proc"}}'
    procedure: restart-web
    remediate:
      verify_with: web-proc
      verify_within: 2m
      attempts: 2
      window: 1h
      reset_after_healthy: 3
channels:
  - {{name: hook, url: "{hook}"}}
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
  flapping: {{max_changes: 100}}  # crash loops here are remediation's business
procedures:
  - name: restart-web
    steps:
      - type: process
        pidfile: {pidfile}
        start: {start}
        grace: 2s
    limits: {{cooldown: 0s, max_runs: 100, disable_after_failures: 100}}
"""


class Watch:
    """The alert engine, the process check and the recovery launcher, on one store."""

    def __init__(self, config_path: str, url: str) -> None:
        self.config_path, self.url = config_path, url
        self.config = load_config(config_path)
        self.db = make_engine(url)
        self.store = MetricStore(self.db)
        self.queued: list[RecoveryRun] = []
        plan = build_plan(self.config)
        remediator = Remediator(self.config, self.db, plan, launch=self.queued.append)
        self.engine = AlertEngine(
            self.db,
            plan,
            store=self.store,
            emit=None,
            on_firing=[remediator.on_firing],
            on_evaluated=[remediator.on_evaluated],
        )
        self.clock = time.time()

    def round(self, after_s: float) -> None:
        """Advance the clock, run the process check once, then run what it launched."""
        self.clock += after_s
        moment = datetime.fromtimestamp(self.clock, UTC)

        run_round(self.config, self.db, self.store, moment)
        while self.queued:
            run = self.queued.pop(0)
            labels = json.loads(run.labels)
            recover(run.procedure, run.target, labels, trigger=run.trigger, run_id=run.id)

    def sweep(self, after_s: float) -> None:
        """Advance the clock and sweep: timers, held pages, delivery."""
        self.clock += after_s
        self.engine.sweep(self.clock)

    def runs(self) -> list[RecoveryRun]:
        with Session(self.db) as session:
            return list(session.exec(select(RecoveryRun).order_by(col(RecoveryRun.id))))

    def audit(self, event: AuditEvent) -> list[str]:
        query = select(RecoveryAudit.detail).where(RecoveryAudit.event == event)
        with self.db.connect() as conn:
            return list(conn.execute(query.order_by(RecoveryAudit.id)).scalars())  # type: ignore[call-overload]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def watch(request, monkeypatch, service, write_config, recovery_db, webhook) -> Iterator[Watch]:  # type: ignore[no-untyped-def]
    """Watch ``service``; ``@pytest.mark.parametrize('start', ...)`` may break its restart."""
    start = getattr(request, "param", None) or service.argv
    text = CONFIG.format(
        pattern=rf"http\.server {service.port} ",
        hook=webhook.url,
        pidfile=service.pidfile,
        start=json.dumps(start),
    )
    watching = Watch(write_config(text), recovery_db)
    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [watching.engine.on_batch])
    yield watching
    watching.engine.outbox.stop()
    watching.db.dispose()


def _kill(service: Service) -> int:
    """Crash the service (SIGKILL) and wait until it stops answering."""
    pid = service.pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while service.is_answering() or is_alive(pid):
        assert time.monotonic() < deadline, "the service survived SIGKILL"
        time.sleep(0.05)
    return pid


def test_a_killed_process_is_restarted_and_verified_and_nobody_is_paged(
    prefect_harness, service, watch, webhook
):
    watch.round(0)  # healthy
    old_pid = _kill(service)
    watch.round(10)  # DOWN: WebDown fires, its page is held, the restart runs
    assert [r.state for r in watch.runs()] == [RunState.SUCCEEDED]
    assert service.pid() != old_pid and is_alive(service.pid())
    watch.round(10)  # the check is UP again: verified in time
    watch.sweep(300)  # long past the verify window
    assert webhook.received == []  # nothing reached the receiver
    assert watch.audit(AuditEvent.REMEDIATION) == [
        "fixed: WebDown on web, verified in time; nothing paged"
    ]


BROKEN_START = [sys.executable, "-c", "raise SystemExit(3)"]


@pytest.mark.parametrize("watch", [BROKEN_START], indirect=True)
def test_a_fix_that_fails_pages_exactly_once(prefect_harness, service, watch, webhook):
    watch.round(0)
    _kill(service)
    watch.round(10)  # fires; its page is held while the restart runs, and the restart fails
    assert [r.state for r in watch.runs()] == [RunState.FAILED]
    assert webhook.received == []
    watch.sweep(1)  # the next pass sees the failed run: the held page goes out
    for _ in range(3):  # still down, swept well past the verify window
        watch.round(30)
        watch.sweep(60)
    assert webhook.titles() == ["[FIRING:1] WebDown on web"]
    assert watch.audit(AuditEvent.REMEDIATION) == [
        "failed: WebDown on web, not fixed in time; paging"
    ]


def test_it_gives_up_after_k_attempts_and_tries_again_after_n_healthy_cycles(
    prefect_harness, service, watch, webhook
):
    watch.round(0)
    for _ in range(2):  # two crashes, two verified restarts: attempts 1 and 2 of 2
        _kill(service)
        watch.round(10)
        watch.round(10)
    assert len(watch.runs()) == 2 and webhook.received == []
    _kill(service)
    watch.round(10)  # a third crash within the hour: no recovery, the page goes out
    watch.sweep(1)
    assert len(watch.runs()) == 2 and not service.is_answering()
    assert watch.audit(AuditEvent.SKIPPED) == [
        "given up: 2 attempts within 1h; resets after 3 healthy cycles"
    ]
    assert webhook.titles() == ["[FIRING:1] WebDown on web"]
    # An operator starts it by hand; three healthy cycles reset the count.
    child = subprocess.Popen(service.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    service.pidfile.write_text(f"{child.pid}\n")
    service.wait_answering()
    for _ in range(3):
        watch.round(10)
    assert watch.audit(AuditEvent.REMEDIATION)[-1] == (
        "reset: WebDown on web, healthy long enough; the attempt count starts again"
    )
    _kill(service)
    watch.round(10)  # remediated again, and verified
    watch.round(10)
    watch.sweep(300)
    assert [r.state for r in watch.runs()] == [RunState.SUCCEEDED] * 3
    assert service.is_answering()
    assert [m["title"] for m in webhook.received] == [
        "[FIRING:1] WebDown on web",
        "[RESOLVED] WebDown on web",  # the given-up episode, resolved by hand
    ]
    child.wait(timeout=5)
