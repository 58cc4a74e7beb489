"""Dashboard fixtures: a vigil.yaml with users, pointed at by the VIGIL_* variables."""

from collections.abc import Callable

import pytest

from tasks.core.passwords import hash_password
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

    return configure
