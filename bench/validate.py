"""Config validation benchmark: how long `vigil validate` takes on each hostile variant.

    .venv/bin/python bench/validate.py [--top 8]

Runs every variant of tests/models/hostile_configs.py (fixed seed) through `vigil validate`
in-process and prints the CPU and wall time per case (median, p95, max) and the slowest
cases, with the baseline of the valid example config in the same run.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.models.hostile_configs import EXAMPLE, hostile_configs
from vigil.cli import app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", type=int, default=8, help="slowest cases to list")
    args = parser.parse_args()
    runner = CliRunner()
    path = Path(tempfile.mkdtemp()) / "vigil.yaml"

    def timed(raw: bytes) -> tuple[float, float, int]:
        path.write_bytes(raw)
        cpu, wall = time.process_time(), time.perf_counter()
        code = runner.invoke(app, ["validate", str(path)]).exit_code
        return time.process_time() - cpu, time.perf_counter() - wall, code

    timed(EXAMPLE.encode())  # loads apprise's plugins once, as a long-running process has
    baseline = timed(EXAMPLE.encode())
    runs = [(name, *timed(raw)) for name, raw in hostile_configs()]
    cpu = sorted(run[1] for run in runs)
    wall = sorted(run[2] for run in runs)
    codes = {code: sum(1 for run in runs if run[3] == code) for code in {run[3] for run in runs}}
    print(f"variants: {len(runs)}  exit codes: {codes}")
    cpu_ms, wall_ms = baseline[0] * 1000, baseline[1] * 1000
    print(f"baseline (valid example): cpu {cpu_ms:.1f} ms, wall {wall_ms:.1f} ms")
    for label, values in (("cpu", cpu), ("wall", wall)):
        p95 = values[int(0.95 * (len(values) - 1))]
        print(
            f"{label}: median {statistics.median(values) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms, max {values[-1] * 1000:.1f} ms"
        )
    for name, cpu_s, wall_s, code in sorted(runs, key=lambda run: -run[1])[: args.top]:
        print(f"  {cpu_s * 1000:7.1f} ms cpu {wall_s * 1000:7.1f} ms wall  exit {code}  {name}")


if __name__ == "__main__":
    main()
