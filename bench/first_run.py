"""First-run benchmark: how soon a new user sees Vigil work.

    .venv/bin/python bench/first_run.py

From an empty directory, `vigil init` and `vigil up` with the starter config: seconds from
the URLs being printed to the first stored sample and the first check result. Then `vigil
demo --no-follow`, `vigil demo break`: seconds from the break to DemoWebDown firing; `vigil
demo stop` after. The baseline in the same run is where the first sample and check would
come without the immediate first windows: the flows' first scheduled run (one interval
after `vigil serve` registered them). Last line JSON:
{"first_sample_s": a, "first_check_s": b, "demo_first_alert_s": c}.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIGIL = [sys.executable, "-m", "vigil.cli"]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "PREFECT_API"))}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def wait_until(condition: Callable[[], object], seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {seconds:g} s")
        time.sleep(0.2)
    return time.monotonic()


def scalar(db: Path, sql: str) -> object:
    try:
        with sqlite3.connect(db) as store:
            return store.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet, or busy
        return None


def first_sample_and_check(directory: Path) -> tuple[float, float, float]:
    """(start-up s, first sample s, first check s), the last two from the URLs printed."""
    env = environment(VIGIL_PREFECT_PORT=str(free_port()))
    ports = ["--push-port", str(free_port()), "--dashboard-port", str(free_port())]
    subprocess.run([*VIGIL, "init", *ports], cwd=directory, env=env, check=True)
    started = time.monotonic()
    up = subprocess.Popen(
        [*VIGIL, "up"], cwd=directory, env=env, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert up.stdout is not None
    try:
        for line in up.stdout:
            print("  | " + line.rstrip(), file=sys.stderr)
            if "Vigil is up" in line:
                break
        printed = time.monotonic()
        db = directory / "vigil.db"
        sampled = wait_until(lambda: scalar(db, "SELECT count(*) FROM sample"), 120)
        checked = wait_until(lambda: scalar(db, "SELECT count(*) FROM check_result"), 120)
    finally:
        subprocess.run([*VIGIL, "down"], cwd=directory, env=env, check=False)
        up.wait(timeout=60)
    return printed - started, sampled - printed, checked - printed


def demo_first_alert(directory: Path) -> float:
    """Seconds from `vigil demo break` to the DemoWebDown alert firing."""
    demo_dir, env = directory / "demo", environment()
    ports = [f"--{n}-port={free_port()}" for n in ("prefect", "dashboard", "push", "web")]
    start = [*VIGIL, "demo", "--dir", str(demo_dir), "--no-follow", "--break-after", "3600"]
    try:
        subprocess.run([*start, *ports], cwd=directory, env=env, check=True)
        subprocess.run([*VIGIL, "demo", "break", "--dir", str(demo_dir)], env=env, check=True)
        broke = time.monotonic()
        firing = "SELECT count(*) FROM alert WHERE rule = 'DemoWebDown' AND state = 'firing'"
        fired = wait_until(lambda: scalar(demo_dir / "vigil.db", firing), 180)
    finally:
        subprocess.run([*VIGIL, "demo", "stop", "--dir", str(demo_dir)], env=env, check=False)
    return fired - broke


def main() -> None:
    from deployments.checks import WINDOW

    baseline = WINDOW / timedelta(seconds=1)
    with tempfile.TemporaryDirectory() as empty:
        startup, sample, check = first_sample_and_check(Path(empty))
    with tempfile.TemporaryDirectory() as empty:
        alert = demo_first_alert(Path(empty))
    print(f"vigil up: URLs printed {startup:.1f} s after the start")
    print(
        f"first sample stored   {sample:6.1f} s after the URLs (baseline {baseline:g} s: ", end=""
    )
    print(f"{baseline / max(sample, 0.1):.0f}x sooner)")
    print(f"first check result    {check:6.1f} s after the URLs (baseline {baseline:g} s: ", end="")
    print(f"{baseline / max(check, 0.1):.0f}x sooner)")
    print(f"demo: alert firing    {alert:6.1f} s after `vigil demo break`")
    figures = {"first_sample_s": round(sample, 1), "first_check_s": round(check, 1)}
    print(json.dumps({**figures, "demo_first_alert_s": round(alert, 1)}))


if __name__ == "__main__":
    main()
