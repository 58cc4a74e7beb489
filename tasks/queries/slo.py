"""SLOs as the SLO page reads them: one row per SLO, and one SLO's budget burn-down."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.store import MetricStore
from tasks.slo.read import budget_burn_down, slo_rows

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("slo", "source", "target", "window_days", "sli", "budget_remaining", "burning")


def slos(engine: Engine, config: VigilConfig, *, now: datetime) -> "pd.DataFrame":
    """Return every SLO's figures at ``now``; ``burning`` lists its firing burn-rate pairs."""
    import pandas as pd

    rows = slo_rows(config, MetricStore(engine), now.timestamp())
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "bad", "allowed_bad", "unit"])
    frame["burning"] = frame["burning"].map(", ".join)
    return frame


def burn_down(engine: Engine, config: VigilConfig, name: str, *, now: datetime) -> "pd.DataFrame":
    """Return ``at`` (UTC) and ``budget_remaining`` (share) over the SLO's window."""
    import pandas as pd

    slo = next(s for s in config.slos if s.name == name)
    points = budget_burn_down(MetricStore(engine), slo, now.timestamp())
    frame = pd.DataFrame(points, columns=["at", "budget_remaining"])
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
    return frame
