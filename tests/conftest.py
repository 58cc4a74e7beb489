"""Shared fixtures: real SQLite files and real PostgreSQL databases, one per test."""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from models.db import make_engine
from models.migrate import upgrade
from models.settings import get_settings
from models.store import MetricStore

PG_URL = os.environ.get("VIGIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_dsn() -> str:
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


STEAL_MARGIN = 40  # tests the first worker may start before the second one steals


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start each of the two workers of `make test` (``-n 2 --dist worksteal``) on half of the
    slow tests, so they overlap the quick ones instead of queueing on one worker.

    The first worker is handed the list (or its first half) and the second takes the tail
    half (xdist steals from the end of a queue): half the slow tests go first, the other half
    just past the middle, a little after it since the first worker has begun by then.
    """
    slow = [item for item in items if item.get_closest_marker("slow")]
    quick = [item for item in items if not item.get_closest_marker("slow")]
    ahead, behind = slow[::2], slow[1::2]
    middle = max(0, min(len(quick), len(items) // 2 + STEAL_MARGIN - len(ahead)))
    items[:] = ahead + quick[:middle] + behind + quick[middle:]


@pytest.fixture(scope="session")
def postgres_available() -> None:
    """Skip (or, in CI with VIGIL_REQUIRE_PG=1, fail) when no PostgreSQL server answers."""
    try:
        psycopg.connect(_admin_dsn(), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {PG_URL}: {exc}"
        if os.environ.get("VIGIL_REQUIRE_PG"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """Create an empty PostgreSQL database for one test and drop it afterwards."""
    name = f"vigil_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty database URL, once as a SQLite file and once as a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A database URL migrated to the newest schema."""
    upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def store(db_url: str) -> Iterator[MetricStore]:
    """A metric store on a migrated database (SQLite and PostgreSQL)."""
    engine = make_engine(db_url)
    yield MetricStore(engine)
    engine.dispose()


@pytest.fixture
def serve_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | Path, str], None]]:
    """Point this process's settings at a vigil.yaml and a store, as `vigil serve` is started.

    Flows take neither as a parameter: they read the settings of the process that runs them.
    """

    def point(config_path: str | Path, database_url: str) -> None:
        monkeypatch.setenv("VIGIL_CONFIG_PATH", str(config_path))
        monkeypatch.setenv("VIGIL_DATABASE_URL", database_url)
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


# Batch the Prefect server's event consumers so SQLite sees fewer concurrent writers
# (see shared notes, prefect-3.8.8.md §5); must be set before the harness starts.
for _key, _value in {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_key, _value)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session (it costs ~14 s to start).

    Heartbeats are off: they add ~1 s to every sync flow run and cannot be disabled
    from the environment.
    """
    import prefect.settings as ps
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield
