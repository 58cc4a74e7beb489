"""The dashboard's door in the store: audited logins, throttling, lockouts, sessions.

Every attempt, success, throttle, lockout, unlock and logout is a row of ``login_audit``;
the throttle is computed from those rows (tasks/core/access/door.py), so it holds across
dashboard processes and restarts.
"""

import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.access import LoginAudit, LoginEvent
from tasks.core.access.door import DoorPolicy, DoorState, Entry, door_state

_HISTORY = 200  # enough to span a lockout (20 failures) many times over


@dataclass(frozen=True)
class LoginOutcome:
    """What the door said."""

    session_id: str | None  # set when the login succeeded
    message: str


def record(
    engine: Engine,
    user: str,
    event: LoginEvent,
    *,
    now: datetime,
    session_id: str | None = None,
    client: str = "",
    detail: str = "",
) -> None:
    """Audit one event at the door."""
    row = LoginAudit(
        at=now,
        user=user[:64],
        event=event,
        session_id=session_id,
        client=client[:255],
        detail=detail,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()


def state_of(engine: Engine, user: str, policy: DoorPolicy, *, now: datetime) -> DoorState:
    """Where ``user`` stands at the door now."""
    query = (
        select(LoginAudit)
        .where(LoginAudit.user == user[:64])
        .order_by(col(LoginAudit.id).desc())
        .limit(_HISTORY)
    )
    with Session(engine) as session:
        rows = list(session.exec(query))
    return door_state(((_utc(r.at), LoginEvent(r.event)) for r in reversed(rows)), policy, now=now)


def try_login(
    engine: Engine,
    user: str,
    is_right: Callable[[], bool],
    policy: DoorPolicy,
    *,
    now: datetime,
    client: str = "",
) -> LoginOutcome:
    """Check a login unless the door is shut for ``user``; audit what happened.

    ``is_right`` checks the password; it is not called while ``user`` waits or is locked,
    so a guess made then tells nothing.
    """
    state = state_of(engine, user, policy, now=now)
    if state.entry == Entry.LOCKED:
        record(engine, user, LoginEvent.REFUSED_LOCKED, now=now, client=client)
        return LoginOutcome(None, f"This account is locked until {state.until:%H:%M:%S} UTC.")
    if state.entry == Entry.WAIT:
        record(engine, user, LoginEvent.THROTTLED, now=now, client=client)
        wait = math.ceil((state.until - now).total_seconds()) if state.until else 1
        return LoginOutcome(None, f"Too many wrong passwords; wait {wait}s and try again.")
    if is_right():
        session_id = secrets.token_hex(16)
        record(engine, user, LoginEvent.LOGIN, now=now, session_id=session_id, client=client)
        return LoginOutcome(session_id, "")
    record(engine, user, LoginEvent.FAILED, now=now, client=client)
    if state.failures + 1 >= policy.lockout_after:
        until = now + policy.lockout_for
        record(engine, user, LoginEvent.LOCKED, now=now, client=client, detail=f"until {until}")
        return LoginOutcome(
            None, f"Wrong password; the account is locked until {until:%H:%M:%S} UTC."
        )
    return LoginOutcome(None, "Wrong user name or password.")


def unlock(engine: Engine, user: str, *, by: str, now: datetime) -> None:
    """Lift ``user``'s lockout (an admin's decision, audited)."""
    record(engine, user, LoginEvent.UNLOCKED, now=now, detail=f"by {by}")


def is_session_open(engine: Engine, session_id: str) -> bool:
    """Return False once the session was logged out."""
    query = select(LoginAudit.id).where(
        LoginAudit.session_id == session_id, LoginAudit.event == LoginEvent.LOGOUT
    )
    with Session(engine) as session:
        return session.exec(query).first() is None


def login_audit(engine: Engine, limit: int = 500) -> list[LoginAudit]:
    """The newest events at the door first."""
    query = select(LoginAudit).order_by(col(LoginAudit.id).desc()).limit(limit)
    with Session(engine) as session:
        return list(session.exec(query))


def session_key(path: Path) -> bytes:
    """Return the key that signs session cookies, made (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another dashboard process made it first
            fd = None
        if fd is not None:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
