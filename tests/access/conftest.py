"""Each access test has settings of its own: config, store and state under its tmp_path."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from models.settings import get_settings


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Point settings at ``tmp_path``; undo what `vigil up` writes to the environment."""
    monkeypatch.setenv("VIGIL_CONFIG_PATH", str(tmp_path / "vigil.yaml"))
    monkeypatch.setenv("VIGIL_DATABASE_URL", f"sqlite:///{tmp_path / 'vigil.db'}")
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path / ".vigil"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
