"""Forecast every NAB series from rolling origins in its last 30 % and compare with seasonal naive.

    .venv/bin/python bench/forecast.py [--data DIR] [--origins 3] [--models ...]

Prints relMAE = MAE(model) / MAE(seasonal naive, one-day period) per model and for the
automatic choice (chosen by backtest on the data before the first origin only). The
last line is JSON: {"series": N, "auto_beats_naive_share": x, "median_relMAE": y}.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nab import find_nab
from nab_files import load_folder

from tasks.core.anomaly.base import period_rows
from tasks.core.forecast.models import MODELS, SeasonalNaive
from tasks.core.forecast.selection import WithFallback, origins, select_model

CANDIDATES = ["seasonal_profile", "linear_trend", "ets", "arima"]


def mae_at_origins(frame: pd.DataFrame, make, points: list[int], horizon: int) -> float:  # type: ignore[no-untyped-def]
    """Mean absolute error of ``make()`` refitted at each origin."""
    values = frame["value"].to_numpy(dtype=float)
    errors = []
    for origin in points:
        yhat = make().fit(frame.iloc[:origin]).predict(horizon)["yhat"].to_numpy()
        errors.append(np.mean(np.abs(yhat - values[origin : origin + horizon])))
    return float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=find_nab() / "data")
    parser.add_argument("--origins", type=int, default=3)
    parser.add_argument("--models", default=",".join([*CANDIDATES, "prophet"]))
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    rel: dict[str, list[float]] = {m: [] for m in [*models, "auto"]}
    chosen: dict[str, int] = {}
    started = time.perf_counter()
    for file in load_folder(args.data):
        frame = pd.DataFrame({"ts": file.timestamps, "value": file.values})
        step = frame["ts"].diff().dt.total_seconds().median()
        day = period_rows(step)
        horizon = min(day, 288)
        first = int(len(frame) * 0.7)
        points = origins(len(frame), horizon, args.origins, first)
        naive = mae_at_origins(frame, lambda day=day: SeasonalNaive(period=day), points, horizon)
        eps = 1e-9 * (1.0 + float(np.mean(np.abs(file.values))))  # 0/0 (exact series) = a tie
        for name in models:
            mae = mae_at_origins(frame, lambda n=name: WithFallback(MODELS[n]()), points, horizon)
            rel[name].append((mae + eps) / (naive + eps))
        selection = select_model(frame.iloc[:first], CANDIDATES, horizon=horizon, n_origins=2)
        chosen[selection.model] = chosen.get(selection.model, 0) + 1
        auto = (mae_at_origins(frame, selection.make, points, horizon) + eps) / (naive + eps)
        rel["auto"].append(auto)
        print(
            f"{file.key:55s} {selection.seasonality:6s} {selection.model:16s} relMAE {auto:.3f}",
            flush=True,
        )
    print(f"\n{'model':18s} {'median relMAE':>14s} {'beats naive':>12s}")
    for name, values in rel.items():
        share = float(np.mean(np.array(values) < 1.0))
        print(f"{name:18s} {np.median(values):14.3f} {share:12.0%}")
    print(f"auto choices: {chosen}; {time.perf_counter() - started:.0f}s")
    auto = np.array(rel["auto"])
    summary = {
        "series": len(auto),
        "auto_beats_naive_share": round(float(np.mean(auto < 1.0)), 3),
        "median_relMAE": round(float(np.median(auto)), 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
