"""Read NAB-format folders: category folders of ``timestamp,value`` CSVs, plus optional labels.

Every row is kept in file order (duplicate timestamps, CRLF endings and irregular
sampling occur in real data); labels map to inclusive row ranges by timestamp.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class NabFile:
    """One series: its key ``category/file.csv``, timestamps, values and label windows."""

    key: str
    timestamps: pd.Series
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]


def read_series(path: Path) -> tuple[pd.Series, np.ndarray]:
    """Read one CSV; raise ValueError naming the file if it lacks the two columns."""
    frame = pd.read_csv(path)
    frame.columns = [c.strip() for c in frame.columns]
    if list(frame.columns[:2]) != ["timestamp", "value"]:
        raise ValueError(f"{path}: expected columns timestamp,value; found {list(frame.columns)}")
    timestamps = pd.to_datetime(frame["timestamp"])
    return timestamps, frame["value"].to_numpy(dtype=float)


def window_rows(timestamps: pd.Series, start: str, end: str) -> tuple[int, int] | None:
    """Inclusive row range whose timestamps fall inside ``[start, end]``."""
    ts = timestamps.to_numpy()
    inside = np.flatnonzero(
        (ts >= np.datetime64(pd.Timestamp(start))) & (ts <= np.datetime64(pd.Timestamp(end)))
    )
    return (int(inside[0]), int(inside[-1])) if len(inside) else None


def load_folder(data_dir: Path, windows_file: Path | None = None) -> list[NabFile]:
    """Load every ``<category>/<file>.csv`` under ``data_dir`` in sorted order."""
    labels = json.loads(windows_file.read_text()) if windows_file and windows_file.exists() else {}
    files = []
    for path in sorted(data_dir.glob("*/*.csv")):
        key = f"{path.parent.name}/{path.name}"
        timestamps, values = read_series(path)
        rows = [window_rows(timestamps, s, e) for s, e in labels.get(key, [])]
        files.append(NabFile(key, timestamps, values, tuple(r for r in rows if r)))
    return files
