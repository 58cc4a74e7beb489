"""Incidents as the Incidents page reads them: newest first, with cause and ending."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from models.incidents import Incident, IncidentAlert
from tasks.alerting.incidents import recent_incidents

if TYPE_CHECKING:
    import pandas as pd

TABLES = (Incident, IncidentAlert)
COLUMNS = ("id", "started_at", "ended_at", "cause", "cause_rule", "alerts", "targets", "ending")


def incidents(engine: Engine, *, since: datetime, until: datetime) -> "pd.DataFrame":
    """Incidents open at any time in the span; times as aware UTC, targets comma-joined."""
    import pandas as pd

    frame = pd.DataFrame(recent_incidents(engine, since, until), columns=list(COLUMNS))
    for column in ("started_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    frame["targets"] = frame["targets"].map(", ".join)
    frame["ending"] = frame["ending"].fillna("ongoing")
    return frame
