import uuid
from datetime import UTC, datetime, timedelta

import streamlit as st

from models.store import NewSample
from tests.dashboard.helpers import open_page, seed_metrics


def test_overview_of_an_empty_store_says_nothing_arrived_yet(db_url, dashboard_env):
    dashboard_env(db_url)
    at = open_page("views/overview.py")
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "No samples stored yet" in at.info[0].value
    assert [m.value for m in at.metric[:4]] == ["never", "never", "0", "0"]


def test_overview_shows_fresh_data_without_a_stale_flag(store, db_url, dashboard_env):
    seed_metrics(store)
    dashboard_env(db_url)
    at = open_page("views/overview.py")
    assert not at.exception
    assert at.metric[0].value.endswith("s ago")
    assert [m.value for m in at.metric[2:4]] == ["3", "2"]
    assert not at.warning


def test_overview_flags_stale_data(store, db_url, dashboard_env):
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    store.write([NewSample("cpu_busy_ratio", {"host": "a"}, two_hours_ago, 0.5)])
    dashboard_env(db_url, "  stale_after: 10m\n")
    at = open_page("views/overview.py")
    assert at.metric[0].value == "2h ago"
    assert "Data is stale" in at.warning[0].value
    assert "Is collection running?" in at.warning[0].value


def test_overview_of_an_unmigrated_store_says_how_to_create_it(tmp_path, dashboard_env):
    dashboard_env(f"sqlite:///{tmp_path / 'new.db'}")
    at = open_page("views/overview.py")
    assert not at.exception
    assert "vigil db upgrade" in at.info[0].value


def test_sections_without_their_tables_say_they_are_not_available_yet(bare_store, dashboard_env):
    dashboard_env(bare_store)
    at = open_page("views/overview.py")
    assert not at.exception
    subheaders = [s.value for s in at.subheader]
    assert subheaders == [
        "Health",
        "Active alerts",
        "Recoveries",
        "What Vigil runs",
        "Vigil itself",
    ]
    assert sum("not available yet" in box.value for box in at.info) == 4


def test_sections_with_empty_tables_say_what_will_fill_them(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    at = open_page("views/overview.py")
    assert not at.exception
    assert "No health score yet: they appear once checks have run." in [i.value for i in at.info]


def test_an_unreachable_store_is_reported_not_raised(dashboard_env):
    dashboard_env("postgresql://postgres@127.0.0.1:1/vigil")
    at = open_page("views/overview.py")
    assert not at.exception
    assert "Cannot read the store `postgresql://postgres@127.0.0.1:1/vigil`" in at.error[0].value


def test_overview_shows_each_deployments_last_and_next_run_from_prefect(
    prefect_harness, store, db_url, dashboard_env
):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL
    from prefect.states import Completed, Scheduled

    from tests.dashboard.test_runs_page import probe

    seed_metrics(store)
    name = f"overview-{uuid.uuid4().hex[:8]}"  # one per test: the harness outlives it
    deployment = probe.to_deployment(name, interval=3600, parameters={"fail": False})
    deployment_id = deployment.apply()
    in_ten_minutes = datetime.now(UTC) + timedelta(minutes=10)
    with get_client(sync_client=True) as client:
        done = client.create_flow_run_from_deployment(deployment_id)
        client.set_flow_run_state(done.id, Completed(), force=True)
        client.create_flow_run_from_deployment(
            deployment_id, state=Scheduled(scheduled_time=in_ten_minutes)
        )
    dashboard_env(db_url, f"  prefect_api_url: {PREFECT_API_URL.value()}\n")
    st.cache_data.clear()  # the page keeps Prefect's answer 10 s; this test's run is new
    at = open_page("views/overview.py")
    assert not at.exception
    table = at.table[0].value
    row = table.loc[f"dashboard-probe/{name}"]
    assert row["Last run"].startswith("COMPLETED ") and row["Last run"].endswith("s ago")
    assert row["Next run"].startswith(("in 9m", "in 10m"))
    assert row["Next run"].endswith(f"({in_ten_minutes:%H:%M:%S} UTC)")
    assert row["Schedule"] == "every 3600s"
    assert "No health checks configured" in " ".join(i.value for i in at.info)
