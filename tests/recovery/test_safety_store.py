"""The safety gate in the store, on SQLite and PostgreSQL: rate limit, cooldown, auto-disable."""

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from models.config import parse_config
from models.db import make_engine
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from tasks.recovery.store import admit, enable, finish, guard_of

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _procedure(limits: str):  # type: ignore[no-untyped-def]
    text = (
        f"procedures:\n  - name: p\n    limits: {limits}\n    steps: [{{type: wait, duration: 1s}}]"
    )
    return parse_config(text).procedures[0]


def test_concurrent_triggers_never_exceed_the_rate_limit(db_url):
    engine = make_engine(db_url)
    proc = _procedure("{max_runs: 3, window: 1h, cooldown: 0s}")
    admitted: list[int] = []

    def trigger() -> None:
        for _ in range(5):
            run, _ = admit(engine, proc, "db-1", trigger="alert:X", labels={}, now=T0)
            if run is not None:
                admitted.append(run.id)

    threads = [threading.Thread(target=trigger) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 3
    with Session(engine) as session:
        events = session.exec(select(RecoveryAudit.event)).all()
    assert events.count(AuditEvent.TRIGGERED) == 40 and events.count(AuditEvent.SKIPPED) == 37
    engine.dispose()


def test_the_window_slides_and_cooldown_follows_a_finished_run(db_url):
    engine = make_engine(db_url)
    proc = _procedure("{max_runs: 1, window: 10m, cooldown: 5m}")
    run, _ = admit(engine, proc, "w", trigger="cli", labels={}, now=T0)
    assert run is not None
    assert admit(engine, proc, "w", trigger="cli", labels={}, now=T0 + timedelta(minutes=9))[
        1
    ].startswith("rate limit")
    finish(engine, proc, run.id, RunState.SUCCEEDED, "ok", now=T0 + timedelta(minutes=8))
    refused, why = admit(
        engine, proc, "w", trigger="cli", labels={}, now=T0 + timedelta(minutes=11)
    )
    assert refused is None and why.startswith("cooldown")
    later, _ = admit(engine, proc, "w", trigger="cli", labels={}, now=T0 + timedelta(minutes=14))
    assert later is not None
    engine.dispose()


def test_k_failures_disable_and_an_operator_re_enables(db_url):
    engine = make_engine(db_url)
    proc = _procedure("{max_runs: 10, cooldown: 0s, disable_after_failures: 2}")
    for minute in (0, 1):
        run, _ = admit(
            engine, proc, "d", trigger="cli", labels={}, now=T0 + timedelta(minutes=minute)
        )
        assert run is not None
        finish(engine, proc, run.id, RunState.FAILED, "boom", now=T0 + timedelta(minutes=minute))
    assert guard_of(engine, "p", "d").is_disabled
    assert admit(engine, proc, "d", trigger="cli", labels={}, now=T0 + timedelta(minutes=2))[
        1
    ].startswith("disabled after 2 consecutive failures")
    enable(engine, proc, "d", actor="erin")
    run, _ = admit(engine, proc, "d", trigger="cli", labels={}, now=T0 + timedelta(minutes=3))
    assert run is not None
    with Session(engine) as session:
        enabled = session.exec(
            select(RecoveryAudit).where(RecoveryAudit.event == AuditEvent.ENABLED)
        ).one()
        states = session.exec(select(RecoveryRun.state).order_by(RecoveryRun.id)).all()
    assert enabled.actor == "erin"
    assert states == [RunState.FAILED, RunState.FAILED, RunState.ADMITTED]
    engine.dispose()
