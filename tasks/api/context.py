"""What every router reads: the store, the config, the probes, the clock, Prefect's doors."""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.recovery import RecoveryRun
from models.store import MetricStore
from tasks.store.readiness import Probe

if TYPE_CHECKING:
    import pandas as pd

MAX_ID = 2**63 - 1  # the largest row id either store can hold
JSON = "application/json"
Launch = Callable[[RecoveryRun], object]  # start an admitted run; returns Prefect's flow run
Answer = Callable[..., None]  # resume a paused run: (flow_run_id, approved=, reason=, approver=)


@dataclass(frozen=True)
class ApiContext:
    """The parts the API works with, passed in (tests build their own)."""

    store: MetricStore
    config: VigilConfig
    probes: Mapping[str, Probe]
    clock: Callable[[], datetime]
    launch: Launch
    answer: Answer
    config_path: Path | None = None  # the rule file a rules test may name as vigil.yaml

    @property
    def engine(self) -> Engine:
        """The store's engine."""
        return self.store.engine


def context(request: Request) -> ApiContext:
    """The app's context (a FastAPI dependency)."""
    found: ApiContext = request.app.state.api
    return found


def json_rows(frame: "pd.DataFrame") -> Response:
    """A DataFrame as a JSON array of rows, encoded by pandas (fast for long lists):
    times in ISO 8601 UTC, NaN and NaT as null."""
    return Response(frame.to_json(orient="records", date_format="iso"), media_type=JSON)


def records(frame: "pd.DataFrame") -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready rows: times in ISO 8601, NaN and NaT as null."""
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def iso(ts: float | datetime | None) -> str | None:
    """Epoch seconds or a datetime as ISO 8601 UTC (None stays None)."""
    if ts is None:
        return None
    if isinstance(ts, datetime):
        return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _plain(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.Timestamp | datetime):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NaT or value is None:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value
