"""What the self-watch knows of Vigil: its Vigil* alerts firing, outbox backlog, heartbeat."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from models.alerting import Alert
from models.config.self_watch import SelfWatch
from tasks.alerting.store import to_dt
from tasks.selfwatch.observe import last_heartbeat
from tasks.selfwatch.rules import builtin_rules
from tasks.store.shared_counters import outbox_backlog

if TYPE_CHECKING:
    import pandas as pd

ALERT = Alert.__table__  # type: ignore[attr-defined]


def own_alerts(engine: Engine, watch: SelfWatch) -> "pd.DataFrame":
    """The built-in rules' alerts now firing or pending (columns rule, state, labels, since)."""
    import pandas as pd

    names = [r.name for r in builtin_rules(watch)]
    query = select(ALERT.c.rule, ALERT.c.state, ALERT.c.labels, ALERT.c.fired_at).where(
        ALERT.c.rule.in_(names), ALERT.c.state.in_(["firing", "pending"])
    )
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(ALERT.c.rule)).all()
    return pd.DataFrame(rows, columns=["rule", "state", "labels", "since"])


def outbox_state(engine: Engine, now: datetime) -> tuple[int, float]:
    """Undelivered notices and the oldest one's age in seconds."""
    with engine.connect() as conn:
        return outbox_backlog(conn, now.timestamp())


def heartbeat_at(engine: Engine, watch: SelfWatch) -> datetime | None:
    """When the newest heartbeat was queued; None when there is none (or none configured)."""
    if watch.heartbeat is None:
        return None
    last = last_heartbeat(engine, watch.heartbeat.channel)
    return to_dt(last.timestamp()) if last else None
