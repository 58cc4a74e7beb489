"""Top series by p95: the pruned search equals percentiles over every series' points."""

import random
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from models.db import make_engine
from models.metrics import Series
from models.rollups import Rollup1h
from tasks.slo.series_stats import top_series

START = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_top_ten_by_p95_match_a_brute_force_over_all_series(db_url):
    engine = make_engine(db_url)
    rng = random.Random(7)
    values: dict[int, list[float]] = {}
    with engine.begin() as conn:
        for n in range(80):
            conn.execute(
                insert(Series.__table__).values(  # type: ignore[attr-defined]
                    id=n + 1, name="lat", labels=f'{{"i":"{n}"}}', kind="gauge", unit="",
                    created_at=START,
                )
            )  # fmt: skip
            spread, spike = rng.random() * 10, rng.random() < 0.2  # some have one huge hour
            values[n + 1] = [
                spread * rng.random() + (500 if spike and h == 3 else 0) for h in range(48)
            ]
        rows = [
            {"series_id": s, "bucket_ms": int((START + timedelta(hours=h)).timestamp() * 1000),
             "min_value": v, "max_value": v, "avg_value": v, "sample_count": 60, "last_value": v,
             "last_ts_ms": 0}
            for s, vs in values.items() for h, v in enumerate(vs)
        ]  # fmt: skip
        conn.execute(insert(Rollup1h.__table__), rows)  # type: ignore[attr-defined]
    found = top_series(engine, START, START + timedelta(days=2), top=10)
    engine.dispose()
    expected = sorted(
        ((s, float(np.quantile(vs, 0.95))) for s, vs in values.items()), key=lambda p: -p[1]
    )[:10]
    assert list(found["series"]) == [f'lat{{i="{s - 1}"}}' for s, _ in expected]
    assert list(found["p95"]) == [p for _, p in expected]
    assert set(found["points"]) == {48} and set(found["resolution"]) == {"hourly means"}
