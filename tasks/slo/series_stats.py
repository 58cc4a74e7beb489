"""The series with the highest p95 and p99 over a span, from the rollups.

Up to a day the percentiles are over minute means (``rollup_1m``), beyond over hourly
means (``rollup_1h``). A series' p95 is never above its maximum, so candidates are taken
in order of their maximum (one aggregate query) and read in chunks only until the next
maximum cannot beat the current ``top``-th p95: the answer is exact, and a 30-day report
over 1,000 series reads a few dozen series' points instead of 720 k rows.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, bindparam, text

from models.metrics import Series
from models.vocabulary.labels import parse_canonical

if TYPE_CHECKING:
    import pandas as pd

MINUTE_MEANS_UP_TO = timedelta(days=1)
CHUNK = 25
COLUMNS = ["series", "p95", "p99", "points", "resolution"]


def top_series(engine: Engine, since: datetime, until: datetime, top: int = 10) -> "pd.DataFrame":
    """Columns ``series, p95, p99, points, resolution``: the ``top`` series by p95."""
    import pandas as pd

    table = "rollup_1m" if until - since <= MINUTE_MEANS_UP_TO else "rollup_1h"
    span = {"start": round(since.timestamp() * 1000), "end": round(until.timestamp() * 1000)}
    where = "bucket_ms >= :start AND bucket_ms <= :end"
    by_max = text(
        f"SELECT series_id, MAX(avg_value) FROM {table} WHERE {where} "
        "GROUP BY series_id ORDER BY 2 DESC"
    )
    points = text(
        f"SELECT series_id, avg_value FROM {table} WHERE {where} AND series_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    found: list[tuple[int, float, float, int]] = []
    with engine.connect() as conn:
        candidates = conn.execute(by_max, span).all()
        for first in range(0, len(candidates), CHUNK):
            chunk = candidates[first : first + CHUNK]
            if len(found) >= top and chunk[0][1] < found[top - 1][1]:
                break  # no later series can reach the top: its maximum is below
            rows = conn.execute(points, {**span, "ids": [i for i, _ in chunk]}).all()
            found = sorted([*found, *_percentiles(rows)], key=lambda f: -f[1])[:top]
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    names = _series_names(engine, [f[0] for f in found])
    frame = pd.DataFrame([(names[i], p95, p99, n) for i, p95, p99, n in found], columns=COLUMNS[:4])
    frame["resolution"] = "minute means" if table == "rollup_1m" else "hourly means"
    return frame


def _percentiles(rows) -> list[tuple[int, float, float, int]]:  # type: ignore[no-untyped-def]
    import numpy as np

    by_series: dict[int, list[float]] = {}
    for series_id, value in rows:
        by_series.setdefault(series_id, []).append(value)
    out = []
    for series_id, values in by_series.items():
        p95, p99 = np.quantile(np.array(values), [0.95, 0.99])
        out.append((series_id, float(p95), float(p99), len(values)))
    return out


def _series_names(engine: Engine, ids: list[int]) -> dict[int, str]:
    table = Series.__table__  # type: ignore[attr-defined]
    query = table.select().where(table.c.id.in_(ids))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {row.id: _notation(row.name, row.labels) for row in rows}


def _notation(name: str, labels: str) -> str:
    pairs = ",".join(f'{k}="{v}"' for k, v in parse_canonical(labels).items())
    return f"{name}{{{pairs}}}" if pairs else name
