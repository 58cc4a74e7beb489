"""Process settings read from the environment (``VIGIL_*``); vigil.yaml holds what is watched."""

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


@lru_cache
def get_settings() -> Settings:
    """Return the settings of this process, read once."""
    return Settings()
