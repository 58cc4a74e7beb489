import pytest
from sqlalchemy import inspect

from models.db import make_engine
from models.migrate import current_revision, downgrade, head_revision, revisions, upgrade
from models.retention_indexes import INDEXES as RETENTION_INDEXES


def test_an_empty_database_upgrades_to_the_newest_revision(empty_db_url):
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()
    engine = make_engine(empty_db_url)
    assert {"series", "sample"} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize("start", ["base", *revisions()[:-1]])
def test_a_database_at_an_earlier_revision_upgrades(empty_db_url, start):
    if start != "base":
        upgrade(empty_db_url, start)
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()


def test_upgrading_twice_changes_nothing_and_downgrade_empties(empty_db_url):
    upgrade(empty_db_url)
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    engine = make_engine(empty_db_url)
    assert "sample" not in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize(
    ("module", "table"),
    [
        ("models.remediation", "remediation"),
        ("models.own_metrics", "own_counter"),
        ("models.breakers", "'breaker'"),
        ("models.breakers", "breaker_event"),
        ("models.api_token", "api_token"),
        ("models.incidents", "incident"),
        ("models.incidents", "incident_alert"),
        ("models.checks", "ix_check_result_not_up"),
        ("models.access", "approval_code"),
        ("models.access", "login_audit"),
        ("models.access", "config_load"),
        *(("models.retention_indexes", name) for name in RETENTION_INDEXES),
    ],
)
def test_a_migration_matches_its_model(db_url, module, table):
    import importlib

    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    importlib.import_module(module)  # registers the table

    engine = make_engine(db_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert [d for d in diffs if table in repr(d)] == []
