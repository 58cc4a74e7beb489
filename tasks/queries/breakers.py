"""Circuit breakers as the Alerts page shows them: each one's state, and their transitions."""

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from models.alerting import ChannelBreaker
from models.breakers import BreakerEvent, CalleeBreaker
from tasks.store import breakers

if TYPE_CHECKING:
    import pandas as pd

TABLES = (ChannelBreaker, CalleeBreaker, BreakerEvent)
STATE_COLUMNS = ["kind", "name", "state", "failures", "opened_at"]
TRANSITION_COLUMNS = ["at", "kind", "name", "state", "failures"]


def breaker_states(engine: Engine) -> "pd.DataFrame":
    """Every breaker with a row, open ones first (a callee without a row is closed)."""
    import pandas as pd

    kinds = (breakers.CHANNEL, breakers.SCRAPE, breakers.RECOVERY)
    with engine.connect() as conn:
        rows = [
            (kind, name, str(b.state), b.failures, b.opened_at)
            for kind in kinds
            for name, b in sorted(breakers.load_all(conn, kind).items())
        ]
    frame = pd.DataFrame(rows, columns=STATE_COLUMNS)
    frame["opened_at"] = pd.to_datetime(frame["opened_at"], unit="s", utc=True)
    order = frame["state"].map({"open": 0, "half_open": 1, "closed": 2})
    return frame.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def breaker_transitions(engine: Engine, *, newest: int = 50) -> "pd.DataFrame":
    """The ``newest`` changes of state of any breaker, newest first."""
    import pandas as pd

    with engine.connect() as conn:
        found = breakers.transitions(conn, newest=newest)
    rows = [(t.at, t.kind, t.name, str(t.state), t.failures) for t in reversed(found)]
    frame = pd.DataFrame(rows, columns=TRANSITION_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
    return frame
