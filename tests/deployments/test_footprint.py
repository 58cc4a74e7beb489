"""The processes of `vigil up` start without the libraries only a frame, chart or model needs.

Each case imports, in a fresh interpreter, what one process imports at start (see
``deployments/services.py``, ``vigil/cli.py`` and ``vigil/cli_api.py``) and lists the heavy
libraries then loaded: pandas alone is 100+ MB of an idle process's memory.
"""

import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "scipy", "sklearn", "statsmodels", "matplotlib", "reportlab")
STARTS = {
    # `vigil up` prepares, then replaces itself with deployments.supervise (os.execv).
    "supervisor": ["deployments.supervise"],
    # The window flows, self-watch and maintenance run in its threads (deployments/in_process.py).
    "vigil serve": [
        "vigil.cli",
        "deployments.catalog",
        "deployments.kickoff",
        "deployments.in_process",
        "prefect.flow_engine",
    ],
    # The compact layout (the default): the Prefect server and the API in threads of it too.
    "vigil serve --with-prefect-server --with-api": [
        "vigil.cli",
        "deployments.catalog",
        "deployments.kickoff",
        "deployments.in_process",
        "deployments.threaded_server",
        "prefect.flow_engine",
        "prefect.server.api.server",
        "uvicorn",
        "tasks.api.app",
    ],
    "push and API server": [
        "vigil.cli",
        "uvicorn",
        "tasks.api.app",
        "tasks.alerting.subscribe",
        "tasks.collect.push_api",
        "tasks.recovery.trigger",
        "tasks.store.readiness",
    ],
}


def heavy_loaded(statements: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``statements`` in a new interpreter."""
    check = f"{statements}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.split()


@pytest.mark.parametrize("process", list(STARTS))
def test_a_process_starts_without_frame_chart_or_model_libraries(process):
    loaded = heavy_loaded("\n".join(f"import {module}" for module in STARTS[process]))
    assert loaded == [], f"{process} loads {loaded}"


def test_the_supervisor_goes_on_without_the_config_models_the_store_or_prefect():
    """What `vigil up` loads to prepare (about 110 MB) is left behind by its os.execv."""
    check = "import deployments.supervise, sys\n"
    check += "print(' '.join(m for m in ('pydantic', 'sqlalchemy', 'alembic', 'prefect', 'typer',"
    check += " 'httpx')"
    check += " if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == []


def test_the_store_reads_points_for_the_alert_engine_without_pandas(tmp_path):
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    statements = f"""
from datetime import UTC, datetime
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
upgrade({url!r})
store = MetricStore(make_engine({url!r}))
store.write([NewSample("up", {{"job": "x"}}, 1_700_000_000.0, 1.0)])
span = datetime.fromtimestamp(1_699_999_000, UTC), datetime.fromtimestamp(1_700_001_000, UTC)
assert [p.value for p in store.range_points("up", *span)] == [1.0]
assert [p.ts for p in store.latest_points("up")] == [1_700_000_000.0]
"""
    assert heavy_loaded(statements) == []
