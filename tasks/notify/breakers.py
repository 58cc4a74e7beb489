"""Channel breakers in the store: every delivering process reads and writes the same row."""

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from models.alerting import ChannelBreaker
from tasks.alerting.store import to_dt, to_ts
from tasks.core.notify.breaker import Breaker, BreakerState

TABLE = ChannelBreaker.__table__  # type: ignore[attr-defined]


def load(conn: Connection, channel: str) -> tuple[Breaker, int]:
    """The channel's breaker and its row version (0: no row yet, so closed)."""
    found = conn.execute(select(TABLE).where(TABLE.c.channel == channel)).first()
    if found is None:
        return Breaker(), 0
    m = found._mapping
    return Breaker(BreakerState(m["state"]), m["failures"], to_ts(m["opened_at"])), m["version"]


def save(conn: Connection, channel: str, breaker: Breaker, version: int) -> bool:
    """Write ``breaker`` if the row is still at ``version`` (compare-and-set); True if written."""
    values = {
        "state": str(breaker.state),
        "failures": breaker.failures,
        "opened_at": to_dt(breaker.opened_at),
        "version": version + 1,
    }
    if version == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(TABLE).values(channel=channel, **values))
        except IntegrityError:
            return False  # another process wrote it first
        return True
    done = conn.execute(
        update(TABLE).where(TABLE.c.channel == channel, TABLE.c.version == version).values(**values)
    )
    return done.rowcount == 1


def load_all(conn: Connection) -> dict[str, Breaker]:
    """Every channel's breaker that has a row (others are closed)."""
    rows = conn.execute(select(TABLE)).all()
    return {r.channel: Breaker(BreakerState(r.state), r.failures, to_ts(r.opened_at)) for r in rows}
