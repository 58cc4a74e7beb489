import socket

import pytest
from prefect import flow
from prefect.settings import PREFECT_API_URL

from tests.dashboard.helpers import open_page


@flow(name="dashboard-probe")
def probe(fail: bool) -> str:
    if fail:
        raise RuntimeError("probe failed on purpose")
    return "ok"


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'vigil.db'}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_history_lists_flow_runs_with_links_to_the_prefect_ui(
    prefect_harness, sqlite_url, dashboard_env
):
    probe(fail=False)
    with pytest.raises(RuntimeError):
        probe(fail=True)
    api_url = PREFECT_API_URL.value()
    dashboard_env(
        sqlite_url, f"  prefect_api_url: {api_url}\n  prefect_ui_url: http://ui.example:4200\n"
    )
    at = open_page("views/runs.py")
    assert not at.exception
    runs = at.dataframe[0].value
    mine = runs[runs["flow"] == "dashboard-probe"]
    # other tests may add probe runs (the Overview's test schedules one)
    assert {"COMPLETED", "FAILED"} <= set(mine["state"])
    assert mine["link"].str.startswith("http://ui.example:4200/runs/flow-run/").all()
    failed = mine[mine["state"] == "FAILED"].iloc[0]
    assert "probe failed on purpose" in failed["message"]
    assert int(at.metric[1].value) >= 1

    at.multiselect(key="states").select("FAILED").run()
    assert set(at.dataframe[0].value["state"]) == {"FAILED"}


def test_run_history_says_when_the_prefect_api_is_unreachable(sqlite_url, dashboard_env):
    url = f"http://127.0.0.1:{closed_port()}/api"
    dashboard_env(sqlite_url, f"  prefect_api_url: {url}\n")
    at = open_page("views/runs.py")
    assert not at.exception
    assert f"the Prefect API at {url} did not answer" in at.warning[0].value
    assert "Is the Prefect server running" in at.warning[0].value
