"""Process settings read from the environment (``VIGIL_*``); vigil.yaml holds what is watched."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where Vigil keeps its data and finds its config."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    database_url: str = Field(
        "sqlite:///vigil.db",
        description="SQLAlchemy URL of the store: sqlite:///path (default ./vigil.db) or "
        "postgresql://user@host/db for production.",
    )
    config_path: Path = Field(Path("vigil.yaml"), description="The vigil.yaml to read.")
    state_dir: Path = Field(
        Path(".vigil"), description="Where `vigil up` keeps logs, pids and the local Prefect home."
    )
    bind_host: str = Field("127.0.0.1", description="Address the local services listen on.")
    prefect_port: int = Field(4200, description="Port of the local Prefect server (API and UI).")
    prefect_database_url: str | None = Field(
        None,
        description="Database of the local Prefect server, e.g. "
        "postgresql+asyncpg://postgres@127.0.0.1/prefect; default: SQLite in state_dir.",
    )
    requested_by: str = Field(
        "vigil",
        description="Who the recovery runs this process runs are recorded as requested by: "
        "`vigil recovery run` sets its caller's identity; a run's parameters cannot.",
    )
    recovery_lease_seconds: float = Field(
        300.0,
        ge=60.0,
        le=86400.0,
        description="Lease of a recovery's target lock on the Prefect server, renewed every "
        "3/4 of it; a run whose worker died unnoticed keeps its target this long at most.",
    )


@lru_cache
def get_settings() -> Settings:
    """Return the settings of this process, read once."""
    return Settings()


@contextmanager
def serving(
    config_path: Path | str, database_url: str, *, requested_by: str | None = None
) -> Iterator[Settings]:
    """Make this process (and the flow runs it starts) use ``config_path`` and ``database_url``.

    Flows take neither as a parameter, so that whoever can start a run through the Prefect
    API cannot choose them: they read the settings of the process that runs them. The
    command line's ``--config`` and ``--db`` come through here, and the identity a command
    acts as (``requested_by``); the old values return after.
    """
    wanted = {"VIGIL_CONFIG_PATH": str(config_path), "VIGIL_DATABASE_URL": database_url}
    if requested_by is not None:
        wanted["VIGIL_REQUESTED_BY"] = requested_by
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
