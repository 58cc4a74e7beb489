"""Run history: Prefect flow runs of every Vigil flow, filterable, linked to the Prefect UI."""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from app.page import context, now, refreshing
from tasks import queries

WINDOWS = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
STATES = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED", "RUNNING", "PAUSED", "SCHEDULED"]
LIMIT = 500

st.title("Run history")


@st.cache_data(ttl=30, show_spinner=False)
def _runs(api_url: str, since: datetime, flows: tuple, states: tuple) -> pd.DataFrame:
    return queries.runs.flow_runs(api_url, since=since, flows=flows, states=states, limit=LIMIT)


@st.cache_data(ttl=30, show_spinner=False)
def _flow_names(api_url: str) -> list[str]:
    return queries.runs.flow_names(api_url)


def body() -> None:
    dashboard = context().dashboard
    api_url = dashboard.prefect_api_url
    try:
        show(api_url, dashboard.prefect_ui_url)
    except queries.runs.PrefectUnavailable as exc:
        st.warning(
            f"Run history is unavailable: {exc}. Is the Prefect server running "
            "(`vigil up` starts it; `PREFECT_API_URL` or `dashboard.prefect_api_url` in "
            "vigil.yaml point elsewhere.) This page retries on the next refresh."
        )


def show(api_url: str, ui_url: str) -> None:
    cols = st.columns(3)
    window = cols[0].selectbox("Started", list(WINDOWS), index=1, key="runs_window")
    flows = cols[1].multiselect("Flows", _flow_names(api_url), placeholder="all", key="flows")
    states = cols[2].multiselect("States", STATES, placeholder="all", key="states")
    since = (now() - WINDOWS[window]).replace(second=0, microsecond=0)
    runs = _runs(api_url, since, tuple(flows), tuple(states))
    if runs.empty:
        st.info("No flow runs match. Runs appear here once Vigil's flows run.")
        return
    failed = runs["state"].isin(["FAILED", "CRASHED"])
    left, middle, right = st.columns(3)
    left.metric("Runs", f"{len(runs)}{'+' if len(runs) == LIMIT else ''}")
    middle.metric("Failed or crashed", int(failed.sum()))
    right.metric("Median duration", f"{runs['duration_s'].median():.1f}s")
    runs = runs.assign(link=[queries.runs.run_url(ui_url, i) for i in runs["id"]])
    st.dataframe(
        runs.drop(columns=["id"]),
        hide_index=True,
        column_config={
            "link": st.column_config.LinkColumn("Prefect UI", display_text="open"),
            "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.2f"),
            "start": st.column_config.DatetimeColumn("Start (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "end": st.column_config.DatetimeColumn("End (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        },
    )


refreshing(body, needs_store=False)
