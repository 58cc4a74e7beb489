"""Score Vigil's detectors on NAB with our own NAB scorer, or write scores for any NAB-format data.

    .venv/bin/python bench/nab.py [--nab ../shared/data/nab] [--detectors ensemble,cusum]
    .venv/bin/python bench/nab.py --cv 5
    .venv/bin/python bench/nab.py --data DIR --out DIR

The first form prints standard / reward-low-FP / reward-low-FN scores per detector.
The second cross-validates: on each split the detector's shape (bins, margins, warm-up),
then its variant (orders, z share, rest, k-NN blend) and its alarm threshold are chosen
on the training folds and scored on the held-out fold, both with NAB's
optimal threshold (chosen on the fold itself) and with the frozen one (from training).
The third writes OUT/<detector>/<category>/<file>.csv (timestamp,value,anomaly_score)
for every CSV under DIR; no labels needed. Detectors see values only, online.
"""

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cv import mean_spread, stratified_folds
from nab_files import NabFile, load_folder

from tasks.core.anomaly.base import period_rows
from tasks.core.anomaly.contextual import RESOLUTIONS, ContextualNovelty
from tasks.core.anomaly.knn import KnnConformal, blend
from tasks.core.anomaly.nab_score import PROFILES, LabelledFile, score_at_threshold, score_corpus
from tasks.core.anomaly.registry import DETECTORS


def find_nab() -> Path:
    """``shared/data/nab`` beside the checkout (or beside a parent folder of it)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data" / "nab").is_dir():
            return parent / "shared" / "data" / "nab"
    return Path("../shared/data/nab")


NAB_DETECTORS = [name for name in DETECTORS if name != "memory_leak"]  # that one is for RSS


def file_period(file: NabFile) -> int:
    """One day in rows at the file's median sampling step."""
    step = file.timestamps.diff().dt.total_seconds().median()
    return period_rows(float(step) if np.isfinite(step) and step > 0 else 300.0)


def run(detector: str, files: list[NabFile]) -> tuple[list[np.ndarray], float]:
    """Scores of every file and the seconds it took."""
    started = time.perf_counter()
    scores = [DETECTORS[detector](file_period(f)).score(f.values) for f in files]
    return scores, time.perf_counter() - started


def write_scores(out: Path, detector: str, files: list[NabFile], scores: list[np.ndarray]) -> None:
    """OUT/<detector>/<category>/<file>.csv with timestamp,value,anomaly_score."""
    for file, score in zip(files, scores, strict=True):
        path = out / detector / file.key
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame(
            {"timestamp": file.timestamps.dt.strftime("%Y-%m-%d %H:%M:%S"), "value": file.values}
        )
        frame["anomaly_score"] = score
        frame.to_csv(path, index=False)


# The CV's choices, in two stages (the full product would take hours on two cores).
# Stage 1, the detector's shape with the rest at production defaults: bin counts averaged
# over, range margins (on a new record / at the end of the warm-up) and minimum warm-up.
BINS = (tuple(range(4, 11)), RESOLUTIONS, tuple(range(8, 15)))
MARGINS = (0.05, 0.1, 0.2)
SETTLE_MARGINS = (0.025, 0.05, 0.1)
WARMUPS = (75, 150, 300)
# Stage 2, on the shape stage 1 chose: contextual constants and the k-NN blend weight.
ORDERS = (3, 5)
Z_WEIGHTS = (0.0, 0.1, 0.2)
REST_ROWS = (10, 20, 40)
KNN_WEIGHTS = (0.0, 0.1, 0.25)

Scores = list[np.ndarray]


def shapes() -> dict[str, dict[str, Any]]:
    """Stage 1's ContextualNovelty keyword arguments by label."""
    return {
        f"b{bins[0]}-{bins[-1]} m{margin:g}/{settle:g} w{warmup}": {
            "resolutions": bins,
            "margins": (margin, settle),
            "min_warmup": warmup,
        }
        for bins, margin, settle, warmup in itertools.product(
            BINS, MARGINS, SETTLE_MARGINS, WARMUPS
        )
    }


def contextual(files: list[NabFile], **params: Any) -> Scores:
    """ContextualNovelty's scores of every file with these arguments."""
    return [ContextualNovelty(file_period(f), **params).score(f.values) for f in files]


def variants(files: list[NabFile], knn: Scores, shape: dict[str, Any]) -> dict[str, Scores]:
    """Stage 2: scores of every file under every variant on this shape, and knn_cad alone."""
    started = time.perf_counter()
    out = {"knn_cad": knn}
    for orders, z_weight, rest in itertools.product(ORDERS, Z_WEIGHTS, REST_ROWS):
        scores = contextual(files, orders=orders, z_weight=z_weight, rest_rows=rest, **shape)
        for weight in KNN_WEIGHTS:
            label = f"o{orders} z{z_weight:g} r{rest} knn{weight:g}"
            out[label] = [
                blend([c, k], (1.0 - weight, weight)) for c, k in zip(scores, knn, strict=True)
            ]
    print(f"  stage 2: {len(out)} variants in {time.perf_counter() - started:.1f}s", flush=True)
    return out


def labelled(files: list[NabFile], scored: dict[str, Scores]) -> dict[str, list[LabelledFile]]:
    return {
        name: [LabelledFile(s, f.windows) for s, f in zip(scores, files, strict=True)]
        for name, scores in scored.items()
    }


def best(candidates: dict[str, list[LabelledFile]], train: list[int]) -> str:
    """The candidate with the best standard score on the training files."""
    fits = {
        n: score_corpus([lab[i] for i in train], PROFILES[0]).normalised
        for n, lab in candidates.items()
    }
    return max(fits, key=lambda n: fits[n])


def cross_validate(files: list[NabFile], k: int) -> None:
    """Choose shape, variant and threshold on K-1 folds, score the held-out fold; mean ± spread."""
    folds = stratified_folds([f.key for f in files], k)
    started = time.perf_counter()
    knn = [KnnConformal(file_period(f)).score(f.values) for f in files]
    print(f"  knn_cad: {len(files)} files in {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    shape_args = shapes()
    first = labelled(files, {n: contextual(files, **a) for n, a in shape_args.items()})
    print(f"  stage 1: {len(first)} shapes in {time.perf_counter() - started:.1f}s", flush=True)
    second: dict[str, dict[str, list[LabelledFile]]] = {}  # stage 2 on each chosen shape
    rows = []
    for fold in range(k):
        train = [i for i, f in enumerate(folds) if f != fold]
        test = [i for i, f in enumerate(folds) if f == fold]
        shape = best(first, train)
        if shape not in second:
            second[shape] = labelled(files, variants(files, knn, shape_args[shape]))
        chosen = best(second[shape], train)
        lab = second[shape][chosen]
        held_out = [lab[i] for i in test]
        optimal = [score_corpus(held_out, p).normalised for p in PROFILES]
        lines = [score_corpus([lab[i] for i in train], p).threshold for p in PROFILES]
        frozen = [score_at_threshold(held_out, p, t) for p, t in zip(PROFILES, lines, strict=True)]
        rows.append((f"{shape} | {chosen}", lines[0], *optimal, *frozen))
        print(
            f"fold {fold} ({len(test)} files) {shape} | {chosen}, threshold {lines[0]:.3f}: "
            f"std/lowFP/lowFN optimal {' '.join(f'{v:.1f}' for v in optimal)}, "
            f"frozen {' '.join(f'{v:.1f}' for v in frozen)}",
            flush=True,
        )
    columns = list(zip(*rows, strict=True))
    names = ["standard", "low FP", "low FN"]
    print(
        "mean ± spread over test folds (NAB-optimal threshold per fold): "
        + ", ".join(f"{n} {mean_spread(list(c))}" for n, c in zip(names, columns[2:5], strict=True))
    )
    print(
        "mean ± spread over test folds (frozen threshold from training folds): "
        + ", ".join(f"{n} {mean_spread(list(c))}" for n, c in zip(names, columns[5:8], strict=True))
    )
    thresholds = [round(float(t), 3) for t in columns[1]]
    print(f"chosen variants: {list(columns[0])}")
    print(f"frozen standard thresholds {thresholds}, median {np.median(thresholds):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab", type=Path, default=find_nab(), help="NAB folder with labels")
    parser.add_argument("--data", type=Path, help="score this NAB-format data folder instead")
    parser.add_argument("--out", type=Path, help="write per-row scores here (with --data)")
    parser.add_argument("--detectors", default=",".join(NAB_DETECTORS))
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation")
    args = parser.parse_args()
    names = [d for d in args.detectors.split(",") if d]
    if args.data:
        if not args.out:
            parser.error("--data needs --out")
        files = load_folder(args.data)
        for name in names:
            scores, seconds = run(name, files)
            write_scores(args.out, name, files, scores)
            print(f"{name}: {len(files)} files scored in {seconds:.1f}s -> {args.out / name}")
        return
    started = time.perf_counter()
    files = load_folder(args.nab / "data", args.nab / "labels" / "combined_windows.json")
    if not files:
        parser.error(f"no <category>/<file>.csv under {args.nab / 'data'}")
    windows = sum(len(f.windows) for f in files)
    print(f"NAB: {len(files)} files, {windows} windows, {sum(len(f.values) for f in files)} rows")
    if args.cv:
        cross_validate(files, args.cv)
        print(f"wall time {time.perf_counter() - started:.1f}s")
        return
    print(f"{'detector':18s} {'standard':>9s} {'low FP':>8s} {'low FN':>8s} {'seconds':>8s}")
    for name in names:
        scores, seconds = run(name, files)
        labelled = [LabelledFile(s, f.windows) for s, f in zip(scores, files, strict=True)]
        results = [score_corpus(labelled, profile) for profile in PROFILES]
        cells = " ".join(f"{r.normalised:8.1f}" for r in results)
        print(f"{name:18s} {cells} {seconds:8.1f}", flush=True)
    print(f"wall time {time.perf_counter() - started:.1f}s (loading, scoring and NAB scoring)")


if __name__ == "__main__":
    main()
