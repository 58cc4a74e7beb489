"""Score Vigil's detectors on NAB with our own NAB scorer, or write scores for any NAB-format data.

    .venv/bin/python bench/nab.py [--nab ../shared/data/nab] [--detectors ensemble,cusum]
    .venv/bin/python bench/nab.py --cv 5
    .venv/bin/python bench/nab.py --data DIR --out DIR

The first form prints standard / reward-low-FP / reward-low-FN scores per detector.
The second cross-validates: on each split the detector variant and its alarm threshold
are chosen on the training folds and scored on the held-out fold, both with NAB's
optimal threshold (chosen on the fold itself) and with the frozen one (from training).
The third writes OUT/<detector>/<category>/<file>.csv (timestamp,value,anomaly_score)
for every CSV under DIR; no labels needed. Detectors see values only, online.
"""

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cv import mean_spread, stratified_folds
from nab_files import NabFile, load_folder

from tasks.core.anomaly.base import period_rows
from tasks.core.anomaly.contextual import ContextualNovelty
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


# The CV's choices: contextual constants, and its blend with the k-NN conformal detector.
ORDERS = (3, 5)
Z_WEIGHTS = (0.0, 0.1, 0.2)
REST_ROWS = (10, 20, 40)
KNN_WEIGHTS = (0.0, 0.1, 0.25)


def variants(files: list[NabFile]) -> dict[str, list[np.ndarray]]:
    """Scores of every file under every detector variant the CV chooses among."""
    started = time.perf_counter()
    knn = [KnnConformal(file_period(f)).score(f.values) for f in files]
    print(f"  knn_cad: {len(files)} files in {time.perf_counter() - started:.1f}s", flush=True)
    out = {"knn_cad": knn}
    started = time.perf_counter()
    for orders, z_weight, rest in itertools.product(ORDERS, Z_WEIGHTS, REST_ROWS):
        contextual = [
            ContextualNovelty(file_period(f), orders, z_weight, rest).score(f.values) for f in files
        ]
        for weight in KNN_WEIGHTS:
            label = f"o{orders} z{z_weight:g} r{rest} knn{weight:g}"
            out[label] = [
                blend([c, k], (1.0 - weight, weight)) for c, k in zip(contextual, knn, strict=True)
            ]
    print(f"  {len(out)} variants in {time.perf_counter() - started:.1f}s", flush=True)
    return out


def cross_validate(files: list[NabFile], k: int) -> None:
    """Choose variant and threshold on K-1 folds, score the held-out fold; mean ± spread."""
    folds = stratified_folds([f.key for f in files], k)
    scored = variants(files)
    labelled = {
        name: [LabelledFile(s, f.windows) for s, f in zip(scores, files, strict=True)]
        for name, scores in scored.items()
    }
    print(
        f"{'fold':>4s} {'files':>5s} {'chosen':>22s} {'thresh':>7s} "
        f"{'std':>6s} {'lowFP':>6s} {'lowFN':>6s} {'frozen':>7s} {'fzLowFP':>7s} {'fzLowFN':>7s}"
    )
    rows = []
    for fold in range(k):
        train = [i for i, f in enumerate(folds) if f != fold]
        test = [i for i, f in enumerate(folds) if f == fold]
        fits = {
            n: score_corpus([lab[i] for i in train], PROFILES[0]) for n, lab in labelled.items()
        }
        chosen = max(fits, key=lambda n: fits[n].normalised)
        held_out = [labelled[chosen][i] for i in test]
        optimal = [score_corpus(held_out, p).normalised for p in PROFILES]
        frozen = []
        for profile in PROFILES:
            line = score_corpus([labelled[chosen][i] for i in train], profile).threshold
            frozen.append(score_at_threshold(held_out, profile, line))
        threshold = fits[chosen].threshold
        rows.append((chosen, threshold, *optimal, *frozen))
        cells = " ".join(f"{v:6.1f}" for v in optimal) + " " + " ".join(f"{v:7.1f}" for v in frozen)
        print(f"{fold:4d} {len(test):5d} {chosen:>22s} {threshold:7.3f} {cells}", flush=True)
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
