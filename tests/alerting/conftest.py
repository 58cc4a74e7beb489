"""Alerting fixtures: a real HTTP webhook receiver, a real SMTP server, engines from YAML."""

from collections.abc import Iterator

import pytest

from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.settings import get_settings
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tests.alerting.helpers import Mailbox, Webhook, smtp_server


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    return url


@pytest.fixture
def make_alert_engine(sqlite_url):  # type: ignore[no-untyped-def]
    """Build an AlertEngine from vigil.yaml text on a migrated database (SQLite by default)."""
    made = []

    def make(yaml_text: str, url: str | None = None, **kwargs) -> AlertEngine:  # type: ignore[no-untyped-def]
        db = make_engine(url or sqlite_url)
        kwargs.setdefault("store", MetricStore(db))
        kwargs.setdefault("emit", None)
        engine = AlertEngine(db, build_plan(parse_config(yaml_text)), **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.outbox.stop()
        engine.db.dispose()


@pytest.fixture
def owned_state_dir(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A state directory this OS user owns, so that CLI writes may act with --as-admin."""
    (tmp_path / ".vigil").mkdir()
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path / ".vigil"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
