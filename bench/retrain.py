"""Time retraining with model selection: N series of one week of 5-minute data on both cores.

    .venv/bin/python bench/retrain.py [--series 1000] [--workers 2]

Each series is refitted exactly as the retrain flow does it (seasonality detection,
rolling-origin backtest of every candidate on MASE, final fit with fall-back), without
the store round trips. Prints the wall time, series per second and the 1,000-series time.
"""

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from tasks.core.forecast.retrain import RetrainReason, refit

WEEK = 7 * 288
CANDIDATES = ["seasonal_profile", "linear_trend", "ets", "arima"]


def synthetic(seed: int) -> pd.DataFrame:
    """A week of 5-minute data: daily cycle (or not), trend, noise, the odd spike."""
    rng = np.random.default_rng(seed)
    t = np.arange(WEEK)
    cycle = rng.choice([0.0, rng.uniform(1, 20)]) * np.sin(t * 2 * np.pi / 288)
    values = rng.uniform(10, 100) + cycle + rng.uniform(-0.01, 0.01) * t
    values += rng.normal(0, rng.uniform(0.5, 5), WEEK)
    ts = pd.date_range("2026-01-01", periods=WEEK, freq="5min", tz="UTC")
    return pd.DataFrame({"ts": ts, "value": values})


def retrain_one(seed: int) -> str:
    """Refit one series; return the chosen model."""
    draft = refit(
        synthetic(seed),
        CANDIDATES,
        None,
        reason=RetrainReason.SCHEDULE,
        horizon=288,
        n_origins=2,
    )
    return draft.model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread per worker process
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        chosen = list(pool.map(retrain_one, range(args.series), chunksize=4))
    seconds = time.perf_counter() - started
    counts = pd.Series(chosen).value_counts().to_dict()
    print(
        f"retrained {args.series} series x {WEEK} samples with {args.workers} workers "
        f"in {seconds:.1f}s ({args.series / seconds:.2f} series/s); chosen: {counts}"
    )
    per_1000 = seconds / args.series * 1000
    how = "measured" if args.series == 1000 else "extrapolated"
    print(
        f"1,000 series: {per_1000 / 60:.1f} min ({how}; "
        f"target < 10 min); load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
