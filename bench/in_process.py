"""In-thread flow runs benchmark: memory growth and cost per run of the self-watch.

    .venv/bin/python bench/in_process.py [--runs 30] [--baseline-runs 3]

Serves the real self-watch flow (a scratch vigil.yaml and SQLite store) from an
InProcessRunner on a Prefect test server, as `vigil serve` does, and runs it ``runs``
times one after the other in threads of this process: prints this process's RSS after the
5th run (warm) and after the last, the growth per run, and the CPU and wall seconds per
run. The baseline in the same command is Prefect's own path: ``baseline-runs`` runs of the
same deployment each in a process of its own (``python -m prefect.engine``). CPU is this
process's and its ended children's. Last line JSON: {"rss_growth_kb_per_run": g,
"cpu_s_per_run_thread": a, "cpu_s_per_run_process": b}.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deployments.in_process import InProcessRunner
from flows.self_watch import self_watch
from models.migrate import upgrade
from models.settings import serving
from tests.runner_thread import running as runner_in_thread

CONFIG = "targets:\n  - name: box\ncollectors:\n  push: {enabled: false}\n"


@contextmanager
def running(in_thread: dict[str, Any]) -> Iterator[UUID]:
    """Serve a fresh self-watch deployment from a runner in a thread; yield its id."""
    runner = InProcessRunner(query_seconds=1, in_thread=in_thread)
    deployment = self_watch.to_deployment(f"bench-{uuid.uuid4().hex[:8]}")
    deployment_id = cast(UUID, runner.add_deployment(deployment))
    with runner_in_thread(runner):
        yield deployment_id


def run_once(deployment_id: UUID) -> str:
    """Create one run, wait for its final state; return the state's name."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run_id = client.create_flow_run_from_deployment(deployment_id).id
        while True:
            run = client.read_flow_run(run_id)
            if run.state is not None and run.state.is_final():
                return run.state.name
            time.sleep(0.2)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def engine_children_reaped(timeout: float = 60.0) -> None:
    """Wait until no run's process (``python -m prefect.engine``) is alive or unreaped: a
    child's CPU is counted only once it has been waited for, a little after its run ends."""

    def is_pending(child: psutil.Process) -> bool:
        try:
            return child.status() == psutil.STATUS_ZOMBIE or "prefect.engine" in child.cmdline()
        except psutil.Error:
            return False

    deadline = time.monotonic() + timeout
    while any(map(is_pending, psutil.Process().children())) and time.monotonic() < deadline:
        time.sleep(0.1)


def measure(deployment_id: UUID, runs: int) -> dict[str, Any]:
    rss, states = [], []
    cpu, began = cpu_seconds(), time.monotonic()
    for _ in range(runs):
        states.append(run_once(deployment_id))
        rss.append(psutil.Process().memory_info().rss / 1e6)
    engine_children_reaped()
    return {
        "rss_mb": rss,
        "states": states,
        "cpu_s_per_run": (cpu_seconds() - cpu) / runs,
        "wall_s_per_run": (time.monotonic() - began) / runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline-runs", type=int, default=3)
    args = parser.parse_args()
    import prefect.settings as ps
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        tempfile.TemporaryDirectory() as tmp,
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        (Path(tmp) / "vigil.yaml").write_text(CONFIG)
        url = f"sqlite:///{Path(tmp) / 'vigil.db'}"
        upgrade(url)
        with serving(Path(tmp) / "vigil.yaml", url):
            with running({self_watch.name: self_watch}) as deployment_id:
                threaded = measure(deployment_id, args.runs)
            with running({}) as deployment_id:
                apart = measure(deployment_id, args.baseline_runs)
    rss = threaded["rss_mb"]
    warm = min(5, len(rss)) - 1
    growth_kb = (rss[-1] - rss[warm]) * 1000 / max(1, len(rss) - 1 - warm)
    print(f"in threads: {args.runs} runs, {sorted(set(threaded['states']))}")
    print(f"  RSS after run {warm + 1}: {rss[warm]:.1f} MB; after run {len(rss)}: {rss[-1]:.1f} MB")
    print(f"  growth after warm-up: {growth_kb:.0f} KB per run")
    print(
        f"  CPU {threaded['cpu_s_per_run']:.2f} s, wall {threaded['wall_s_per_run']:.2f} s per run"
    )
    print(f"own processes (baseline): {args.baseline_runs} runs, {sorted(set(apart['states']))}")
    print(f"  CPU {apart['cpu_s_per_run']:.2f} s, wall {apart['wall_s_per_run']:.2f} s per run")
    ratio = apart["cpu_s_per_run"] / max(threaded["cpu_s_per_run"], 1e-9)
    print(f"  a run in a thread costs 1/{ratio:.1f} of the CPU of a run in its own process")
    print(
        json.dumps(
            {
                "rss_growth_kb_per_run": round(growth_kb),
                "cpu_s_per_run_thread": round(threaded["cpu_s_per_run"], 2),
                "cpu_s_per_run_process": round(apart["cpu_s_per_run"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
