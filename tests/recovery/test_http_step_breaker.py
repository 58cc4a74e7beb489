"""A recovery HTTP step whose endpoint goes dead opens its breaker: the step then fails at once
without a call, until a probe after the cool-down finds the endpoint back. Real loopback
server, real store; the step's clock is passed in."""

import pytest
from prefect import flow
from sqlalchemy import select
from sqlmodel import Session, col

from models.config.recovery import HttpStep, ScaleStep
from models.errors import RecoveryError
from models.recovery import AuditEvent, RecoveryAudit
from tasks.core.recovery.plan import make_context, render_step
from tasks.recovery.steps import (
    BreakerOpenError,
    RunBook,
    engine_for,
    execute_guarded,
    run_action,
)
from tasks.store import breakers
from tasks.store.breakers import RECOVERY
from tests.comeback import Comeback

T0 = 1_800_000_000.0


@pytest.mark.parametrize("kind", [HttpStep, ScaleStep])
def test_a_dead_endpoint_fails_its_step_at_once_until_the_probe_after_the_cooldown(
    recovery_db, kind
):
    server = Comeback(b"scaled").up()
    url = f"http://127.0.0.1:{server.port}/scale"
    spec = {"url": url, "timeout": "2s", "breaker": {"failures": 2, "cooldown": "30s"}}
    if kind is ScaleStep:
        spec |= {"type": "scale", "replicas": 3}
    step = kind.model_validate({"type": "http", **spec})
    action = render_step(step, make_context("scale-up", "web", {}, address=None), "scale")
    book = RunBook(recovery_db, "scale-up", "web", run_id=None)

    def run_at(second: float) -> str:
        return execute_guarded(action, book, clock=lambda: T0 + second).output

    try:
        assert run_at(0) == "HTTP 200: scaled"
        server.down()
        for second in (1, 2):  # refused twice: the breaker opens
            with pytest.raises(RecoveryError, match="failed") as refused:
                run_at(second)
            assert not isinstance(refused.value, BreakerOpenError)
        server.up()  # back, but the breaker does not know yet
        for second in (3, 20, 31):
            with pytest.raises(BreakerOpenError, match="not called: the circuit breaker of POST"):
                run_at(second)
        assert server.calls == 1
        assert run_at(32) == "HTTP 200: scaled"  # the probe after the cool-down
        assert run_at(33) == "HTTP 200: scaled"
        assert server.calls == 3
    finally:
        server.down()
    with engine_for(recovery_db).connect() as conn:
        events = conn.execute(select(breakers.EVENTS).order_by(breakers.EVENTS.c.id)).all()
    name = f"POST http://127.0.0.1:{server.port}/***"
    assert [(e.kind, e.name, e.state) for e in events] == [
        (RECOVERY, name, "open"),
        (RECOVERY, name, "half_open"),
        (RECOVERY, name, "closed"),
    ]


def test_an_open_breaker_fails_a_step_with_retries_once_without_calling_or_retrying(
    prefect_harness, recovery_db
):
    server = Comeback(b"scaled").up()
    url = f"http://127.0.0.1:{server.port}/scale"
    step = HttpStep.model_validate(
        {
            "type": "http",
            "url": url,
            "timeout": "2s",
            "retries": 3,
            "retry_delay": "1s",
            "breaker": {"failures": 1, "cooldown": "1h"},
        }
    )
    action = render_step(step, make_context("scale-up", "web", {}, address=None), "scale")
    book = RunBook(recovery_db, "scale-up", "web", run_id=None)
    server.down()
    with pytest.raises(RecoveryError, match="failed"):
        execute_guarded(action, book)  # one refused call opens the breaker
    server.up()

    @flow
    def one_step() -> str:
        return run_action(action, book)

    try:
        with pytest.raises(BreakerOpenError):
            one_step()
    finally:
        server.down()
    assert server.calls == 0
    with Session(engine_for(recovery_db)) as session:
        audits = session.scalars(select(RecoveryAudit).order_by(col(RecoveryAudit.id))).all()
    # Retried, it would say "scale: failed after 4 attempt(s): …".
    assert [a.event for a in audits] == [AuditEvent.STEP_FAILED]
    assert audits[0].detail.startswith("scale: not called: the circuit breaker of POST")
