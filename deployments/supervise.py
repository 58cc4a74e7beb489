"""`vigil up` after its preparation: the supervisor in a fresh, lean interpreter.

`vigil up` loads and checks vigil.yaml, migrates the store and records the load: Pydantic
models, SQLAlchemy and Alembic, about 110 MB it would then keep for months while it only
starts and tends processes. So it writes what to run to ``<state dir>/up-plan.json`` and
replaces itself with this module (``os.execv``: the same pid, terminal and environment),
which needs only the supervisor (about 35 MB). The plan holds no secret: the store's URL and
the Prefect credential come with the environment, as they reach every service.

    python -m deployments.supervise STATE_DIR/up-plan.json
"""

import functools
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from deployments.supervisor import Service, Supervisor
from models.errors import VigilError

PLAN = "up-plan.json"


def write_plan(state_dir: Path, prefect_api_url: str, services: Sequence[Service]) -> Path:
    """Write what the supervisor will run; return the file's path."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / PLAN
    plan = {
        "state_dir": str(state_dir.resolve()),
        "prefect_api_url": prefect_api_url,
        "services": [asdict(service) for service in services],
    }
    path.write_text(json.dumps(plan, indent=1))
    return path


def supervise(plan_path: Path) -> int:
    """Start the plan's services, restart what crashes until Ctrl-C or SIGTERM; the exit code."""
    plan = json.loads(plan_path.read_text())
    # Runs a killed runner left keep their slots: end them before a runner serves again.
    release = functools.partial(release_in_child, plan["prefect_api_url"])
    supervisor = Supervisor(Path(plan["state_dir"]), before_start={"deployments": release})
    signal.signal(signal.SIGTERM, _interrupt)  # `vigil down` stops us like Ctrl-C does
    code = 0
    try:
        supervisor.start([Service(**s) for s in plan["services"]], echo=_say)
        for running in supervisor.running:
            _say(f"  {running.service.name:<16} {running.service.url}")
        _say("Vigil is up; Ctrl-C or `vigil down` stops it.")
        supervisor.watch()  # restarts crashed services; raises when one keeps crashing
    except KeyboardInterrupt:
        pass
    except VigilError as error:
        print(error, file=sys.stderr, flush=True)
        code = 1
    finally:
        supervisor.stop()
    _say("Vigil stopped.")
    return code


def release_in_child(
    api_url: str, say: Callable[[str], None], timeout_seconds: float = 300.0
) -> None:
    """Run `release_runs_left_by_runner` in a child process; pass its lines to ``say``.

    `vigil up` supervises for months: done in its own process, the Prefect client (about
    55 MB) would stay in its memory for good. The credential goes with the environment.
    (Isolated layout only: the compact one does it in `vigil serve` itself.)
    """
    argv = [sys.executable, "-m", "deployments.stale_runs_api", api_url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_seconds)
    for line in done.stdout.splitlines():
        say(line)
    if done.returncode:
        raise RuntimeError((done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1])


def _say(line: str) -> None:
    print(line, flush=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(supervise(Path(sys.argv[1])))
