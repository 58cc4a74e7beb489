"""Dashboard fixtures: a vigil.yaml with users, pointed at by the VIGIL_* variables."""

from collections.abc import Callable

import pytest

from models.db import make_engine
from models.migrate import upgrade
from models.vocabulary.passwords import hash_password
from tests.dashboard.helpers import PASSWORD, write_config


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def dashboard_env(monkeypatch, tmp_path, password_hash) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """Point the dashboard at a store URL and a vigil.yaml (through VIGIL_* variables)."""

    def configure(db_url: str, extra: str = "", top: str = "") -> None:
        config = write_config(tmp_path / "vigil.yaml", password_hash, extra, top)
        monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
        monkeypatch.setenv("VIGIL_CONFIG_PATH", str(config))
        monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path / "state"))  # session key

    return configure


@pytest.fixture
def engine(db_url):  # type: ignore[no-untyped-def]
    """An engine on ``db_url`` (SQLite and PostgreSQL)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A migrated SQLite store, for page behaviour that does not depend on the backend."""
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    return url


@pytest.fixture
def lite(sqlite_url):  # type: ignore[no-untyped-def]
    """An engine on ``sqlite_url``."""
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def bare_store(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A store with only the metric tables (revision 0001), as before other capabilities."""
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url, "0001")
    return url
