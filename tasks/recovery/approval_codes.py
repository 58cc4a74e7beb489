"""One-time approval codes in the store: issued to a logged-in operator, redeemed once.

Only the sha256 of a code is stored, so a copy of the store cannot answer a run; a code
works for one user, one paused flow run and a few minutes, and only once.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from models.access import ApprovalCode, ApprovalPath
from tasks.core.recovery.approvers import code_hash, new_code

CODE_LIFETIME = timedelta(minutes=10)


def issue_code(
    engine: Engine,
    user: str,
    flow_run_id: str,
    path: ApprovalPath,
    *,
    now: datetime,
    lifetime: timedelta = CODE_LIFETIME,
) -> str:
    """Return a fresh code with which ``user`` can answer ``flow_run_id`` once."""
    code = new_code()
    row = ApprovalCode(
        user=user,
        flow_run_id=str(flow_run_id),
        path=str(path),
        code_hash=code_hash(code),
        issued_at=now,
        expires_at=now + lifetime,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()
    return code


def redeem_code(
    engine: Engine, user: str, flow_run_id: str, code: str, *, now: datetime
) -> ApprovalPath | None:
    """Use up ``code`` if it is ``user``'s valid code for ``flow_run_id``; return its path.

    None when it is wrong, expired, already used, or another user's or run's. The write is
    compare-and-set, so two answers cannot both use one code.
    """
    wanted = (
        select(ApprovalCode)
        .where(ApprovalCode.user == user)
        .where(ApprovalCode.flow_run_id == str(flow_run_id))
        .where(ApprovalCode.code_hash == code_hash(code))
    )
    with Session(engine) as session:
        row = session.exec(wanted).first()
        if row is None or row.used_at is not None or _aware(row.expires_at) <= now:
            return None
        path = ApprovalPath(row.path)
        used = session.execute(
            update(ApprovalCode)
            .where(ApprovalCode.id == row.id)  # type: ignore[arg-type]
            .where(ApprovalCode.used_at.is_(None))  # type: ignore[union-attr]
            .values(used_at=now)
        )
        session.commit()
    return path if used.rowcount == 1 else None  # type: ignore[attr-defined]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
