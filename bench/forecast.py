"""Forecast every NAB series from rolling origins in its last 30 % and compare with baselines.

    .venv/bin/python bench/forecast.py [--data DIR] [--origins 3] [--models ...]
    .venv/bin/python bench/forecast.py --cv 5

Prints relMAE = MAE(model) / MAE(seasonal naive, one-day period) per model and for the
automatic choice (chosen by a rolling-origin backtest on the data before the first
origin only, with the production constants). With ``--cv K`` the selection constants
(margin, ensemble size) are chosen on K-1 folds of files and scored on the held-out fold;
figures are then over test-fold series. The last line is JSON: {"series": N,
"auto_beats_naive_share": x, "median_relMAE": y, "auto_beats_last_value_share": z}.
"""

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cv import mean_spread, stratified_folds
from nab import find_nab
from nab_files import NabFile, load_folder

from tasks.core.anomaly.base import period_rows
from tasks.core.forecast.models import MODELS, SeasonalNaive
from tasks.core.forecast.selection import (
    BACKTEST_ORIGINS,
    CANDIDATES,
    ENSEMBLE,
    ENSEMBLE_SIZE,
    MARGIN,
    Backtest,
    WithFallback,
    origins,
    select_model,
)

MARGINS = (
    0.0,
    0.05,
    0.1,
    0.2,
)  # the CV's choices; it picks 0 and 4 on every split  # the CV's choices
ENSEMBLE_SIZES = (2, 3, 4)


@dataclass
class SeriesRun:
    """One series: its backtest (on data before the first origin) and every model's errors."""

    key: str
    backtest: Backtest
    naive_mae: float
    forecasts: dict[str, list[np.ndarray]]  # per model, at each evaluation origin
    actuals: list[np.ndarray]
    eps: float  # 0/0 (an exact series) counts as a tie

    def mae(self, model: str, members: tuple[str, ...] = ()) -> float:
        """Mean absolute error over the evaluation origins (ensemble: median of members)."""
        errors = []
        for i, actual in enumerate(self.actuals):
            yhat = (
                np.median([self.forecasts[m][i] for m in members], axis=0)
                if model == ENSEMBLE
                else self.forecasts[model][i]
            )
            errors.append(np.mean(np.abs(yhat - actual)))
        return float(np.mean(errors))

    def rel(self, model: str, members: tuple[str, ...] = ()) -> float:
        """MAE relative to seasonal naive."""
        return (self.mae(model, members) + self.eps) / (self.naive_mae + self.eps)

    def auto(self, margin: float, size: int) -> tuple[str, float]:
        """The model the backtest picks with these constants, and its relMAE."""
        self.backtest.add_ensemble(size)
        chosen = self.backtest.best(margin)
        return chosen, self.rel(chosen, self.backtest.members)


def prepare(file: NabFile, n_eval: int, models: list[str]) -> SeriesRun:
    """Backtest on the first 70 %, then forecast every model from origins in the last 30 %."""
    frame = pd.DataFrame({"ts": file.timestamps, "value": file.values})
    day = period_rows(frame["ts"].diff().dt.total_seconds().median())
    horizon = min(day, 288)
    first = int(len(frame) * 0.7)
    points = origins(len(frame), horizon, n_eval, first)
    selection = select_model(
        frame.iloc[:first], CANDIDATES, horizon=horizon, n_origins=BACKTEST_ORIGINS
    )
    values = file.values
    actuals = [values[o : o + horizon] for o in points]

    def forecast(make) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
        return [make().fit(frame.iloc[:o]).predict(horizon)["yhat"].to_numpy() for o in points]

    naive = forecast(lambda: SeasonalNaive(period=day))
    names = [n for n in dict.fromkeys([*CANDIDATES, *models, "seasonal_naive"]) if n != ENSEMBLE]
    forecasts = {
        n: forecast(lambda n=n: WithFallback(MODELS[n](period=selection.period))) for n in names
    }
    naive_mae = float(
        np.mean([np.mean(np.abs(f - a)) for f, a in zip(naive, actuals, strict=True)])
    )
    eps = 1e-9 * (1.0 + float(np.mean(np.abs(values))))
    return SeriesRun(file.key, selection.backtest, naive_mae, forecasts, actuals, eps)


def summary(runs: list[SeriesRun], rels: list[float]) -> dict[str, float]:
    """The last-line figures over these series."""
    auto = np.array(rels)
    last = np.array([r.rel("last_value") for r in runs])
    return {
        "series": len(auto),
        "auto_beats_naive_share": round(float(np.mean(auto < 1.0)), 3),
        "median_relMAE": round(float(np.median(auto)), 3),
        "auto_beats_last_value_share": round(float(np.mean(auto < last)), 3),
    }


def cross_validate(runs: list[SeriesRun], k: int) -> list[float]:
    """Choose margin and ensemble size on K-1 folds, score the held-out fold; relMAE per run."""
    folds = stratified_folds([r.key for r in runs], k)
    configs = list(itertools.product(MARGINS, ENSEMBLE_SIZES))
    rel = {c: [r.auto(*c)[1] for r in runs] for c in configs}
    out = [0.0] * len(runs)
    per_fold = []
    print(
        f"{'fold':>4s} {'series':>6s} {'margin':>6s} {'size':>4s} {'beats naive':>11s} "
        f"{'beats last':>10s} {'median relMAE':>13s}"
    )
    for fold in range(k):
        train = [i for i, f in enumerate(folds) if f != fold]
        test = [i for i, f in enumerate(folds) if f == fold]
        margin, size = min(configs, key=lambda c: (np.median([rel[c][i] for i in train]), c))
        figures = summary([runs[i] for i in test], [rel[(margin, size)][i] for i in test])
        for i in test:
            out[i] = rel[(margin, size)][i]
        per_fold.append(figures)
        print(
            f"{fold:4d} {len(test):6d} {margin:6.2f} {size:4d} "
            f"{figures['auto_beats_naive_share']:11.0%} "
            f"{figures['auto_beats_last_value_share']:10.0%} {figures['median_relMAE']:13.3f}",
            flush=True,
        )
    print(
        "mean ± spread over test folds: "
        + ", ".join(
            f"{name} {mean_spread([f[name] for f in per_fold], 3)}"
            for name in ("auto_beats_naive_share", "auto_beats_last_value_share", "median_relMAE")
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=find_nab() / "data")
    parser.add_argument("--origins", type=int, default=3)
    parser.add_argument("--models", default=",".join(c for c in CANDIDATES if c != ENSEMBLE))
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    started = time.perf_counter()
    runs = []
    for file in load_folder(args.data):
        runs.append(prepare(file, args.origins, models))
        print(f"  {file.key:55s} prepared ({time.perf_counter() - started:.0f}s)", flush=True)
    if args.cv:
        rels = cross_validate(runs, args.cv)
    else:
        picks = [r.auto(MARGIN, ENSEMBLE_SIZE) for r in runs]
        for run, (chosen, rel) in zip(runs, picks, strict=True):
            print(f"{run.key:55s} {chosen:16s} relMAE {rel:.3f}")
        rels = [rel for _, rel in picks]
    print(f"\n{'model':18s} {'median relMAE':>14s} {'beats naive':>12s}")
    for name in [*models, "auto"]:
        values = rels if name == "auto" else [r.rel(name) for r in runs]
        share = float(np.mean(np.array(values) < 1.0))
        print(f"{name:18s} {np.median(values):14.3f} {share:12.0%}")
    print(f"{time.perf_counter() - started:.0f}s")
    print(json.dumps(summary(runs, rels)))


if __name__ == "__main__":
    main()
