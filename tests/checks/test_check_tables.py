"""The hand-written 0003 migration creates exactly the tables models/checks.py declares."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import models.retention_indexes  # noqa: F401  (registers the check tables and their time index)
from models.db import make_engine

CHECK_TABLES = {"check_result", "check_state", "health_score"}


def test_the_migration_matches_the_check_models(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    ours = [d for d in diffs if _table_of(d) in CHECK_TABLES]
    assert ours == []


def _table_of(diff) -> str:
    """Name the table an Alembic diff is about (column/type diffs carry it as text)."""
    item = diff[0] if isinstance(diff, list) else diff  # modify_* diffs come in a list
    if len(item) > 2 and isinstance(item[2], str):
        return item[2]
    thing = item[1]
    return getattr(thing, "table", thing).name
