import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from nab_files import load_folder  # noqa: E402


def write_folder(root: Path) -> None:
    (root / "data" / "cat").mkdir(parents=True)
    rows = ["timestamp,value"] + [f"2026-01-01 00:{m:02d}:00,{m % 7}" for m in range(0, 60, 5)]
    rows.insert(5, rows[4])  # a repeated timestamp (daylight-saving artefact) must be kept
    (root / "data" / "cat" / "a.csv").write_bytes("\r\n".join(rows).encode())  # CRLF endings
    windows = {"cat/a.csv": [["2026-01-01 00:10:00.000000", "2026-01-01 00:20:00.000000"]]}
    (root / "windows.json").write_text(json.dumps(windows))


def test_every_row_is_kept_in_order_and_windows_map_to_rows(tmp_path):
    write_folder(tmp_path)
    [file] = load_folder(tmp_path / "data", tmp_path / "windows.json")
    assert file.key == "cat/a.csv" and len(file.values) == 13
    assert file.windows == ((2, 5),)  # 00:10 is row 2; with 00:15 twice, 00:20 is row 5


def test_the_out_mode_writes_scores_per_detector_category_and_file(tmp_path):
    write_folder(tmp_path)
    out = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "nab.py"),
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(out),
            "--detectors",
            "contextual,ensemble",
        ],
        check=True,
        capture_output=True,
    )
    for detector in ("contextual", "ensemble"):
        frame = pd.read_csv(out / detector / "cat" / "a.csv")
        assert list(frame.columns) == ["timestamp", "value", "anomaly_score"]
        assert len(frame) == 13 and frame["anomaly_score"].between(0, 1).all()
