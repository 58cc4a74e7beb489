"""Alembic environment: the URL comes from the caller (``models.migrate``), never from a file."""

from alembic import context

from models.db import make_engine

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # SQLite cannot ALTER most things in place; batch mode recreates tables instead.
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Vigil runs migrations online only: use `vigil db upgrade`.")
run_migrations_online()
