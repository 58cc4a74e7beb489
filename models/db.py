"""Database engines: SQLite (WAL) by default, PostgreSQL (psycopg 3) in production."""

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Pick the drivers Vigil is built on: psycopg 3 for PostgreSQL.

    >>> normalize_url("postgresql://postgres@127.0.0.1/vigil")
    'postgresql+psycopg://postgres@127.0.0.1/vigil'
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    """Return True when ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite connections get WAL and a busy timeout."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the dashboard read while collectors write; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    # Takes effect in a new file only (before its first table): maintenance then gives
    # the pages retention freed back to the file system.
    cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
