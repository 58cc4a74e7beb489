"""API tokens in the store: make one (shown once), list, revoke, and find who presents one."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from models.api_token import ApiToken
from models.config.dashboard import DashboardUser, Role
from tasks.core.api.tokens import (
    Identity,
    checked_name,
    digest,
    effective_role,
    granted_role,
    new_token,
)

TOKEN = ApiToken.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TokenInfo:
    """A stored token as listed (never its value)."""

    name: str
    user: str
    role: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


def create_token(
    engine: Engine,
    users: Sequence[DashboardUser],
    *,
    name: str,
    user: str,
    role: Role,
    by: str,
    now: datetime,
) -> str:
    """Store a new token for ``user`` with ``role``; return the clear token (shown once).

    Raises:
        ValueError: a bad name, an unknown user, a role above the user's, a name in use.
    """
    user_role = {u.name: u.role for u in users}.get(user)
    granted_role(role, user_role, user)
    token = new_token()
    values = {
        "name": checked_name(name),
        "user_name": user,
        "role": str(role),
        "token_sha256": digest(token),
        "created_by": by,
        "created_at": now,
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(TOKEN).values(**values))
    except IntegrityError:
        raise ValueError(f"a token named {name!r} exists; revoke it or pick another name") from None
    return token


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Every token, oldest first, revoked ones included."""
    t = TOKEN.c
    query = select(t.name, t.user_name, t.role, t.created_by, t.created_at, t.revoked_at).order_by(
        t.id
    )
    with engine.connect() as conn:
        return [TokenInfo(*row) for row in conn.execute(query)]


def revoke_token(engine: Engine, name: str, *, now: datetime) -> bool:
    """Revoke token ``name`` from ``now`` on; False when no such live token exists."""
    t = TOKEN.c
    with engine.begin() as conn:
        done = conn.execute(
            update(TOKEN).where(t.name == name, t.revoked_at.is_(None)).values(revoked_at=now)
        )
    return bool(done.rowcount)


def identify(engine: Engine, users: Sequence[DashboardUser], presented: str) -> Identity | None:
    """Return who the presented token acts as now, or None (unknown, revoked, user gone)."""
    t = TOKEN.c
    query = select(t.name, t.user_name, t.role).where(
        t.token_sha256 == digest(presented), t.revoked_at.is_(None)
    )
    with engine.connect() as conn:
        found = conn.execute(query).first()
    if found is None:
        return None
    name, user, role = found
    role_now = effective_role(Role(role), {u.name: u.role for u in users}.get(user))
    return None if role_now is None else Identity(name, user, role_now)
