"""Footprint benchmark: the idle RSS of each `vigil up` process and of all of them.

    .venv/bin/python bench/footprint.py [--settle 60] [--timeout 300] [--compact-only]
                                        [--hold MINUTES]

Starts `vigil up` on the starter config (`vigil init`) in a scratch directory on free
ports, waits until `vigil status` says every service is healthy, lets it idle ``settle``
seconds, then reads the resident memory (RSS) of the supervisor and of each process under
it, and of any flow run started in a process of its own (the window flows, self-watch and
maintenance run in threads of `vigil serve`, see deployments/in_process.py). It does so for
the isolated layout (`vigil up --isolated`: Prefect server, `vigil serve` and the API each
in a process), the baseline, then for the default compact one (the three in one process).
Prints one line per process and the totals, against the issue's baseline of 1.0 GB and its
target of 500 MB; the last line is JSON ``{"idle_rss_mb": compact, "isolated_rss_mb": x,
"compact_to_isolated": ratio}``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen

import psutil

VIGIL = [sys.executable, "-m", "vigil.cli"]
BASELINE_MB, TARGET_MB = 1000.0, 500.0
HOLD_STEP_SECONDS = 300.0
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(directory: Path) -> dict[str, str]:
    """Write the starter config (its self-checks too) on free ports; return the environment."""
    env = {**os.environ, "VIGIL_PREFECT_PORT": str(free_port()), "PYTHONPATH": str(ROOT)}
    ports = ["--push-port", str(free_port()), "--dashboard-port", str(free_port())]
    init = [*VIGIL, "init", *ports]
    subprocess.run(init, cwd=directory, env=env, check=True, capture_output=True)
    return env


def wait_healthy(directory: Path, env: dict[str, str], up: subprocess.Popen, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        if up.poll() is not None:
            raise SystemExit(f"vigil up exited: {up.stdout.read() if up.stdout else ''}")
        status = subprocess.run(
            [*VIGIL, "status"], cwd=directory, env=env, capture_output=True, text=True
        )
        if status.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"not healthy after {timeout:g} s:\n{status.stdout}")
        time.sleep(2)


def describe(process: psutil.Process) -> str:
    """A short name: the vigil sub-command or the program."""
    try:
        argv = process.cmdline()
    except psutil.Error:
        return "?"
    text = " ".join(argv)
    if "prefect" in text and "server" not in text:  # the runner's process for one flow run
        return f"flow run ({_flow_of(process)})"
    for marker, name in (
        ("deployments.supervise", "vigil up (supervisor)"),
        ("--with-prefect-server", "vigil (Prefect server, runner, API)"),
        ("prefect", "prefect-server"),
        ("streamlit", "dashboard"),
        ("push-server", "push"),
        (" serve", "vigil serve"),
        (" up", "vigil up (supervisor)"),
    ):
        if marker in text:
            return name
    return os.path.basename(argv[0]) if argv else "?"


def _flow_of(process: psutil.Process) -> str:
    """The flow a runner's child runs (its deployment's entrypoint), or its argv."""
    try:
        env = process.environ()
    except psutil.Error:
        env = {}
    entry = env.get("PREFECT__FLOW_ENTRYPOINT", "")
    return entry.rsplit(":", 1)[-1] if entry else " ".join(process.cmdline()[1:4])


def measure(up: subprocess.Popen) -> list[tuple[str, int, float]]:
    """(name, pid, RSS MB) of the supervisor and every process under it."""
    root = psutil.Process(up.pid)
    rows = []
    for process in [root, *root.children(recursive=True)]:
        try:
            rss = process.memory_info().rss / 1e6
        except psutil.Error:
            continue
        rows.append((describe(process), process.pid, rss))
    return rows


@contextmanager
def vigil_up(is_isolated: bool, timeout: float) -> Iterator[tuple[Path, dict[str, str], Popen]]:
    """`vigil up` (isolated or compact) on the starter config in a scratch directory.

    Yields (directory, environment, process) once healthy; `vigil down` on the way out.
    """
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        env = prepare(directory)
        argv = [*VIGIL, "up", *(["--isolated"] if is_isolated else [])]
        print("starting", " ".join(argv[2:]), "in", directory, flush=True)
        up = subprocess.Popen(argv, cwd=directory, env=env, stdout=subprocess.PIPE, text=True)
        try:
            wait_healthy(directory, env, up, timeout)
            yield directory, env, up
        finally:
            subprocess.run([*VIGIL, "down"], cwd=directory, env=env, capture_output=True)
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                up.kill()


def run_layout(
    is_isolated: bool, settle: float, timeout: float, hold: float = 0.0
) -> list[tuple[str, int, float]]:
    """Start `vigil up` (isolated or compact), idle ``settle`` s, read every process's RSS.

    With ``hold`` (s), it then goes on running and prints the total every 5 minutes.
    """
    with vigil_up(is_isolated, timeout) as (_, _, up):
        print(f"healthy; idling {settle:g} s", flush=True)
        time.sleep(settle)
        rows = measure(up)
        started = time.monotonic()
        while time.monotonic() - started < hold:
            time.sleep(min(HOLD_STEP_SECONDS, hold))
            later = measure(up)
            minutes = (time.monotonic() - started) / 60
            print(f"  +{minutes:3.0f} min: {sum(rss for *_, rss in later):6.0f} MB", flush=True)
        return rows


def report(layout: str, rows: list[tuple[str, int, float]]) -> float:
    """Print one line per process and the total; return the total."""
    total = sum(rss for _, _, rss in rows)
    print(f"{layout}:")
    for name, pid, rss in sorted(rows, key=lambda row: -row[2]):
        print(f"  {name:<36} pid {pid:<8} {rss:8.0f} MB")
    print(
        f"  {'total':<36} {'':<12} {total:8.0f} MB  "
        f"({total / BASELINE_MB:.2f} x the 1.0 GB baseline; target {TARGET_MB:.0f} MB)"
    )
    runs = [rss for name, _, rss in rows if name.startswith("flow run")]
    print(f"  of which {len(runs)} flow runs in processes of their own: {sum(runs):.0f} MB")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--settle", type=float, default=60.0, help="idle seconds before reading")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to become healthy")
    parser.add_argument(
        "--compact-only", action="store_true", help="skip the isolated layout's baseline"
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        help="minutes the compact layout goes on running after its reading, its total "
        "printed every 5 minutes (memory growth over hours of flow runs)",
    )
    args = parser.parse_args()
    result = {}
    if not args.compact_only:
        isolated = report("isolated", run_layout(True, args.settle, args.timeout))
        result["isolated_rss_mb"] = round(isolated, 1)
    compact_rows = run_layout(False, args.settle, args.timeout, hold=args.hold * 60)
    compact = report("compact (the default)", compact_rows)
    if not args.compact_only:
        result["compact_to_isolated"] = round(compact / isolated, 3)
    print(json.dumps({"idle_rss_mb": round(compact, 1), **result}))


if __name__ == "__main__":
    main()
