"""The SLOs and Incidents pages: empty states, then a seeded store."""

from datetime import UTC, datetime

from models.db import make_engine
from tasks.alerting.hooks import FiringAlert
from tasks.alerting.incidents import IncidentTracker
from tests.dashboard.helpers import open_page
from tests.slo.history import aligned_now, seed_checks

SLOS = """checks:
  - {name: web-http, type: tcp, target: web, host: 127.0.0.1, port: 9}
slos:
  - {name: web, check: web-http, target: 99.9, window: 30d}
"""


def test_the_slo_page_without_slos_says_how_to_add_them(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    at = open_page("views/slo.py")
    assert not at.exception
    assert "No SLOs yet" in at.info[0].value


def test_the_slo_page_shows_the_budget_left_and_its_burn_down(sqlite_url, dashboard_env):
    engine = make_engine(sqlite_url)
    seed_checks(engine, aligned_now())
    engine.dispose()
    dashboard_env(sqlite_url, top=SLOS)
    at = open_page("views/slo.py")
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["slo"] == "web"].iloc[0]
    assert round(row["budget_remaining"], 4) == round(1 - 1800 / 2592, 4)
    assert "1800 of 2592 bad seconds" in at.caption[0].value
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_the_incidents_page_lists_the_likely_cause(sqlite_url, dashboard_env):
    engine = make_engine(sqlite_url)
    tracker = IncidentTracker(engine, {"web": {"db"}, "db": set()})
    now = datetime.now(UTC).timestamp()
    for target, fp in (("web", "a1"), ("db", "b2")):
        tracker.on_firing(FiringAlert("Down", fp, {"target": target}, 1.0, now))
    engine.dispose()
    dashboard_env(sqlite_url)
    at = open_page("views/incidents.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["cause"]) == ["db"] and list(table["targets"]) == ["db, web"]
    assert list(table["ending"]) == ["ongoing"]
