"""The series with the highest p95 and p99 over a span, from the rollups.

Up to a day the percentiles are over minute means (``rollup_1m``), beyond over hourly
means (``rollup_1h``), so a 30-day report over 1,000 series reads 720 k rows, not 43 M.
"""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from models.metrics import Series
from models.vocabulary.labels import parse_canonical

MINUTE_MEANS_UP_TO = timedelta(days=1)


def top_series(engine: Engine, since: datetime, until: datetime, top: int = 10) -> pd.DataFrame:
    """Columns ``series, p95, p99, points, resolution``: the ``top`` series by p95."""
    table = "rollup_1m" if until - since <= MINUTE_MEANS_UP_TO else "rollup_1h"
    query = text(
        f"SELECT series_id, avg_value FROM {table} WHERE bucket_ms >= :start AND bucket_ms <= :end"
    )
    params = {"start": round(since.timestamp() * 1000), "end": round(until.timestamp() * 1000)}
    with engine.connect() as conn:
        rows = conn.execute(query, params).all()
    ids, values = zip(*rows, strict=True) if rows else ((), ())
    frame = pd.DataFrame({"series_id": np.array(ids, dtype="int64"), "value": np.array(values)})
    if frame.empty:
        return pd.DataFrame(columns=["series", "p95", "p99", "points", "resolution"])
    grouped = frame.groupby("series_id")["value"]
    stats = pd.DataFrame(
        {"p95": grouped.quantile(0.95), "p99": grouped.quantile(0.99), "points": grouped.size()}
    )
    stats = stats.sort_values("p95", ascending=False).head(top)
    names = _series_names(engine, [int(i) for i in stats.index])
    stats.insert(0, "series", [names[int(i)] for i in stats.index])
    stats["resolution"] = "minute means" if table == "rollup_1m" else "hourly means"
    return stats.reset_index(drop=True)


def _series_names(engine: Engine, ids: list[int]) -> dict[int, str]:
    table = Series.__table__  # type: ignore[attr-defined]
    query = table.select().where(table.c.id.in_(ids))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {row.id: _notation(row.name, row.labels) for row in rows}


def _notation(name: str, labels: str) -> str:
    pairs = ",".join(f'{k}="{v}"' for k, v in parse_canonical(labels).items())
    return f"{name}{{{pairs}}}" if pairs else name
