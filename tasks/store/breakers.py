"""Circuit breakers in the store: every process reads and writes the same rows (compare-and-set),
and every change of state is a ``breaker_event`` row (dashboard, alert timeline).

``kind`` says what a breaker guards: a notification ``channel`` (table ``channel_breaker``),
a ``scrape`` target or a ``recovery`` HTTP step (table ``breaker``).
"""

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models.alerting import ChannelBreaker
from models.breakers import BreakerEvent, CalleeBreaker
from tasks.alerting.store import to_dt, to_ts
from tasks.core.resilience.breaker import (
    Breaker,
    BreakerParams,
    BreakerState,
    admit,
    record,
)

CHANNEL, SCRAPE, RECOVERY = "channel", "scrape", "recovery"
CHANNELS = ChannelBreaker.__table__  # type: ignore[attr-defined]
CALLEES = CalleeBreaker.__table__  # type: ignore[attr-defined]
EVENTS = BreakerEvent.__table__  # type: ignore[attr-defined]
log = logging.getLogger(__name__)


def _row(kind: str, name: str) -> tuple[Any, list[Any], dict[str, str]]:
    """The table of ``kind``'s breakers, the WHERE clauses of ``name``'s row, and its key."""
    if kind == CHANNEL:
        return CHANNELS, [CHANNELS.c.channel == name], {"channel": name}
    key = [CALLEES.c.kind == kind, CALLEES.c.name == name]
    return CALLEES, key, {"kind": kind, "name": name}


def load(conn: Connection, kind: str, name: str) -> tuple[Breaker, int]:
    """The breaker and its row version (0: no row yet, so closed)."""
    table, where, _ = _row(kind, name)
    found = conn.execute(select(table).where(*where)).first()
    if found is None:
        return Breaker(), 0
    m = found._mapping
    return Breaker(BreakerState(m["state"]), m["failures"], to_ts(m["opened_at"])), m["version"]


def save(
    conn: Connection,
    kind: str,
    name: str,
    breaker: Breaker,
    version: int,
    *,
    was: Breaker,
    now: float,
) -> bool:
    """Write ``breaker`` if the row is still at ``version`` (compare-and-set); True if written.

    A change of state from ``was`` is also written as an event at ``now``.
    """
    table, where, key = _row(kind, name)
    values = {
        "state": str(breaker.state),
        "failures": breaker.failures,
        "opened_at": to_dt(breaker.opened_at),
        "version": version + 1,
    }
    if version == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**key, **values))
        except IntegrityError:
            return False  # another process wrote it first
    else:
        done = conn.execute(
            update(table).where(*where, table.c.version == version).values(**values)
        )
        if done.rowcount != 1:
            return False
    if breaker.state != was.state:
        conn.execute(
            insert(EVENTS).values(
                kind=kind,
                name=name,
                state=str(breaker.state),
                failures=breaker.failures,
                at=to_dt(now),
            )
        )
    return True


def load_all(conn: Connection, kind: str) -> dict[str, Breaker]:
    """Every ``kind`` breaker that has a row (the others are closed)."""
    table = CHANNELS if kind == CHANNEL else CALLEES
    query = select(table) if kind == CHANNEL else select(table).where(table.c.kind == kind)
    out = {}
    for r in conn.execute(query):
        m = r._mapping
        out[m["channel" if kind == CHANNEL else "name"]] = Breaker(
            BreakerState(m["state"]), m["failures"], to_ts(m["opened_at"])
        )
    return out


@dataclass(frozen=True)
class Transition:
    """One breaker entered ``state`` at ``at`` (epoch seconds)."""

    kind: str
    name: str
    state: BreakerState
    failures: int
    at: float


def transitions(
    conn: Connection, *, since: float = 0.0, newest: int | None = None
) -> list[Transition]:
    """Breaker transitions from ``since`` on (only the ``newest`` ones if given), oldest first."""
    e = EVENTS.c
    query = select(EVENTS).where(e.at >= to_dt(since)).order_by(e.at.desc(), e.id.desc())
    if newest is not None:
        query = query.limit(newest)
    found = [
        Transition(r.kind, r.name, BreakerState(r.state), r.failures, to_ts(r.at) or 0.0)
        for r in conn.execute(query)
    ]
    return found[::-1]


class StoredBreakers:
    """The breakers of one kind of callee (scrape targets, recovery steps), kept in the store.

    Ask ``allows`` before a call and tell ``record`` its outcome. A closed breaker costs one
    read per call; only changes are written. A store that cannot be reached stops no call.
    """

    def __init__(self, engine: Engine, kind: str) -> None:
        self.engine = engine
        self.kind = kind

    def allows(self, name: str, now: float, params: BreakerParams) -> bool:
        """Whether ``name`` may be called now; past an open cool-down, one caller gets the probe."""
        try:
            with self.engine.begin() as conn:
                breaker, version = load(conn, self.kind, name)
                allowed, admitted = admit(breaker, now, params)
                if admitted != breaker:  # a half-open probe: one process takes it
                    if not save(conn, self.kind, name, admitted, version, was=breaker, now=now):
                        return False
                    breaker = admitted
        except SQLAlchemyError as exc:  # the caller's own store write reports the outage
            log.debug("breaker of %s %s unreadable, calling it: %s", self.kind, name, exc)
            return True
        return allowed != 0

    def record(self, name: str, is_ok: bool, now: float, params: BreakerParams) -> Breaker | None:
        """Note one call's outcome; return the breaker after it (None: the store is unreachable)."""
        try:
            with self.engine.begin() as conn:
                breaker, version = load(conn, self.kind, name)
                after = record(breaker, is_ok, now, params)
                if after != breaker and not save(
                    conn, self.kind, name, after, version, was=breaker, now=now
                ):
                    after = load(conn, self.kind, name)[0]  # another process recorded first
        except SQLAlchemyError as exc:
            log.debug("breaker of %s %s not updated: %s", self.kind, name, exc)
            return None
        return after
