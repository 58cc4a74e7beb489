"""Score Vigil's detectors on NAB with our own NAB scorer, or write scores for any NAB-format data.

    .venv/bin/python bench/nab.py [--nab ../shared/data/nab] [--detectors ensemble,cusum]
    .venv/bin/python bench/nab.py --data DIR --out DIR

The first form prints standard / reward-low-FP / reward-low-FN scores per detector.
The second writes OUT/<detector>/<category>/<file>.csv (timestamp,value,anomaly_score)
for every CSV under DIR; no labels needed. Detectors see values only, online.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nab_files import NabFile, load_folder

from tasks.core.anomaly.base import period_rows
from tasks.core.anomaly.nab_score import PROFILES, LabelledFile, score_corpus
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab", type=Path, default=find_nab(), help="NAB folder with labels")
    parser.add_argument("--data", type=Path, help="score this NAB-format data folder instead")
    parser.add_argument("--out", type=Path, help="write per-row scores here (with --data)")
    parser.add_argument("--detectors", default=",".join(NAB_DETECTORS))
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
