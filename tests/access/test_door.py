"""Brute force at the dashboard's door: delays, lockout, an admin's unlock; all audited.

A real SQLite store; the clock is passed in, so the delays pass without sleeping.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models.access import LoginAudit, LoginEvent
from models.db import make_engine
from models.migrate import upgrade
from tasks.access.door import state_of, try_login, unlock
from tasks.core.access.door import DoorPolicy, Entry

POLICY = DoorPolicy()  # 20 failures lock for 15 minutes; delays 1 s, 2 s, ... up to 60 s
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
RIGHT = "correct horse"


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def attempt(engine, password: str, now: datetime):  # type: ignore[no-untyped-def]
    checked: list[str] = []

    def is_right() -> bool:
        checked.append(password)
        return password == RIGHT

    outcome = try_login(engine, "ann", is_right, POLICY, now=now)
    return outcome, checked


def events(engine) -> list[LoginEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [r.event for r in session.exec(select(LoginAudit).order_by(LoginAudit.id))]


def brute_force(engine, start: datetime) -> datetime:  # type: ignore[no-untyped-def]
    """20 wrong passwords, each as soon as the door allows; return the time of the last."""
    now = start
    for n in range(1, 21):
        outcome, checked = attempt(engine, f"guess-{n}", now)
        assert outcome.session_id is None and checked == [f"guess-{n}"]
        if n < 20:
            now += POLICY.delay(n)
    return now


def test_twenty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(engine):
    last = brute_force(engine, T0)
    assert events(engine) == [LoginEvent.FAILED] * 20 + [LoginEvent.LOCKED]
    for later in (timedelta(seconds=1), timedelta(minutes=14, seconds=59)):
        outcome, checked = attempt(engine, RIGHT, last + later)
        assert outcome.session_id is None and checked == []  # not even checked
        assert outcome.message.startswith("This account is locked until 09:")
    outcome, checked = attempt(engine, RIGHT, last + POLICY.lockout_for)
    assert outcome.session_id is not None and checked == [RIGHT]
    assert events(engine)[-3:] == [
        LoginEvent.REFUSED_LOCKED,
        LoginEvent.REFUSED_LOCKED,
        LoginEvent.LOGIN,
    ]


def test_each_failure_doubles_the_wait_and_early_tries_are_not_checked(engine):
    attempt(engine, "a", T0)
    attempt(engine, "b", T0 + timedelta(seconds=1))
    outcome, checked = attempt(engine, RIGHT, T0 + timedelta(seconds=2.5))  # needs 2 s after b
    assert checked == [] and outcome.message == "Too many wrong passwords; wait 1s and try again."
    state = state_of(engine, "ann", POLICY, now=T0 + timedelta(seconds=2.5))
    assert (state.entry, state.failures) == (Entry.WAIT, 2)
    outcome, checked = attempt(engine, RIGHT, T0 + timedelta(seconds=3))
    assert outcome.session_id is not None
    assert events(engine) == [
        LoginEvent.FAILED,
        LoginEvent.FAILED,
        LoginEvent.THROTTLED,
        LoginEvent.LOGIN,
    ]
    assert state_of(engine, "ann", POLICY, now=T0 + timedelta(seconds=3)).failures == 0


def test_an_admin_lifts_a_lockout_and_it_is_audited(engine):
    last = brute_force(engine, T0)
    unlock(engine, "ann", by="root-admin", now=last + timedelta(minutes=1))
    outcome, _ = attempt(engine, RIGHT, last + timedelta(minutes=1))
    assert outcome.session_id is not None
    with Session(engine) as session:
        lifted = session.exec(select(LoginAudit).where(LoginAudit.event == "unlocked")).one()
    assert lifted.detail == "by root-admin"
