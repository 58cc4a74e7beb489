"""What every page needs: the store's engine, the dashboard config and the Prefect endpoints."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from deployments.services import prefect_api_url
from models.access import ConfigLoad
from models.config import load_config
from models.config.dashboard import DashboardConfig
from models.config.root import VigilConfig
from models.db import make_engine
from models.settings import Settings
from tasks.access.config_audit import note_config_load
from tasks.queries.frames import has_tables


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's view of this Vigil: where its data is and how it is configured."""

    database_url: str
    config: VigilConfig
    config_path: Path
    local_prefect_api_url: str  # the Prefect server `vigil up` starts
    state_dir: Path = Path(".vigil")  # where the key that signs session cookies is kept

    @property
    def settings(self) -> DashboardConfig:
        """The ``dashboard:`` section of vigil.yaml."""
        return self.config.dashboard

    @property
    def engine(self) -> Engine:
        """The store's engine, shared by every session of this process."""
        return engine_for(self.database_url)

    @property
    def prefect_api_url(self) -> str:
        """The Prefect API to read: configured, else ``PREFECT_API_URL``, else `vigil up`'s."""
        if self.settings.prefect_api_url:
            return self.settings.prefect_api_url
        from prefect.settings import PREFECT_API_URL

        return PREFECT_API_URL.value() or self.local_prefect_api_url

    @property
    def prefect_ui_url(self) -> str:
        """The Prefect UI that run links point to (by default, the API's server)."""
        if self.settings.prefect_ui_url:
            return self.settings.prefect_ui_url.rstrip("/")
        return self.prefect_api_url.rstrip("/").removesuffix("/api")


def load_dashboard() -> Dashboard:
    """Read the environment (``VIGIL_*``) and vigil.yaml; a missing file means defaults.

    Raises:
        ConfigError: vigil.yaml exists but is invalid (``file:line: field: message``).
    """
    settings = Settings()
    path = settings.config_path
    mtime = path.stat().st_mtime if path.exists() else None
    config = _config(str(path), mtime, settings.database_url)
    return Dashboard(
        settings.database_url, config, path, prefect_api_url(settings), settings.state_dir
    )


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """The engine of the store at ``url``, shared by every session of this process."""
    return make_engine(url)


@st.cache_data(show_spinner=False, max_entries=4)
def _config(path: str, mtime: float | None, database_url: str) -> VigilConfig:
    """Parse vigil.yaml once per change of the file (``mtime`` is the cache key) and record
    the load in the configuration audit (when the store has its table)."""
    if mtime is None:
        return VigilConfig()
    config = load_config(path)
    engine = engine_for(database_url)
    try:
        if has_tables(engine, ConfigLoad):
            note_config_load(engine, Path(path), config, process="dashboard", now=datetime.now(UTC))
    except SQLAlchemyError:  # unreachable: each page says so; this load goes unaudited
        pass
    return config
