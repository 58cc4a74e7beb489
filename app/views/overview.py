"""Overview: is data arriving, what is unhealthy, what is firing, what is being repaired."""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from app import charts
from app.page import ago, context, now, refreshing
from app.views.self_watch_panel import vigil_itself
from models.alerting import Alert
from models.checks import CheckStateRecord, HealthScoreRecord
from models.recovery import RecoveryRun
from models.vocabulary.severity import MOST_SEVERE_FIRST
from tasks import queries

SEVERITIES = [str(s) for s in MOST_SEVERE_FIRST]

st.title("Overview")


def freshness(at: datetime) -> None:
    dashboard = context().dashboard
    engine = dashboard.engine
    last = queries.metrics.last_sample_at(engine)
    counts = queries.metrics.store_counts(engine)
    has_checks = queries.has_tables(engine, CheckStateRecord)
    last_check = queries.checks.last_check_at(engine) if has_checks else None
    cols = st.columns(4)
    cols[0].metric("Last sample stored", ago(last, at) if last else "never")
    cols[1].metric("Last check run", ago(last_check, at) if last_check else "never")
    cols[2].metric("Series", f"{counts['series']:,}")
    cols[3].metric("Metrics", f"{counts['metrics']:,}")
    stale_after = dashboard.settings.stale_after
    if last is None:
        st.info(
            "No samples stored yet. `vigil up` starts collection at once (the `collectors:` "
            "section of vigil.yaml says what); the first sample appears within seconds."
        )
    elif queries.metrics.is_stale(last, now=at, stale_after=stale_after):
        st.warning(
            f"Data is stale: the newest sample is from {last:%Y-%m-%d %H:%M:%S} UTC, "
            f"more than {stale_after} ago. Is collection running?"
        )
    if last_check is None and not dashboard.config.checks:
        st.info(
            "No health checks configured: add a `checks:` section to vigil.yaml "
            "(docs/checks.md), or run `vigil init` for a starter."
        )
    if last_check and queries.metrics.is_stale(last_check, now=at, stale_after=stale_after):
        st.warning(
            f"Checks are stale: the last one ran at {last_check:%Y-%m-%d %H:%M:%S} UTC, "
            f"more than {stale_after} ago. Is the checks flow running?"
        )


def not_yet(what: str) -> None:
    st.info(f"{what} are not available yet: this Vigil's store has no such data.")


def health(at: datetime) -> None:
    st.subheader("Health")
    engine = context().dashboard.engine
    if not queries.has_tables(engine, HealthScoreRecord):
        return not_yet("Health checks and scores")
    trend = queries.checks.health_trend(engine, "system", since=at - timedelta(days=1))
    targets = queries.checks.newest_health(engine, "target")
    if trend.empty and targets.empty:
        st.info("No health score yet: they appear once checks have run.")
        return
    if not trend.empty:
        newest = trend.iloc[-1]
        score = "unknown" if newest["score"] != newest["score"] else f"{newest['score']:.0f}"
        left, right = st.columns([1, 3])
        left.metric("System health", score, help=f"level: {newest['level']}")
        right.altair_chart(charts.score_trend_chart(trend), width="stretch")
    cols = st.columns(4)
    for index, target in enumerate(targets.itertuples()):
        color = charts.LEVEL_COLORS.get(target.level, charts.LEVEL_COLORS["unknown"])
        score = "?" if target.score != target.score else f"{target.score:.0f}"
        cols[index % 4].markdown(
            f'<div style="background:{color};color:white;padding:0.6em;border-radius:0.4em;'
            f'margin-bottom:0.5em"><b>{target.node}</b><br>{target.level} · {score}</div>',
            unsafe_allow_html=True,
        )


def alerts() -> None:
    st.subheader("Active alerts")
    engine = context().dashboard.engine
    if not queries.has_tables(engine, Alert):
        return not_yet("Alerts")
    firing = queries.alerting.alerts(engine, states=["firing"])
    counts = firing["severity"].value_counts()
    for column, severity in zip(st.columns(3), SEVERITIES, strict=True):
        column.metric(severity.title(), int(counts.get(severity, 0)))
    if firing.empty and not context().dashboard.config.rules:
        st.info("No alert rules: add a `rules:` section to vigil.yaml (docs/configuration.md).")
        return
    if firing.empty:
        st.success("Nothing is firing.")
        return
    shown = firing[["id", "rule", "severity", "labels", "fired_at", "ack_by"]].head(10)
    st.dataframe(shown, hide_index=True)


def recoveries() -> None:
    st.subheader("Recoveries")
    engine = context().dashboard.engine
    if not queries.has_tables(engine, RecoveryRun):
        return not_yet("Recoveries")
    active = queries.recovery.runs_in_progress(engine)
    waiting = int((active["state"] == "awaiting_approval").sum())
    left, right = st.columns(2)
    left.metric("Running", len(active) - waiting)
    right.metric("Awaiting approval", waiting)
    if not active.empty:
        st.dataframe(
            active[["id", "procedure", "target", "state", "requested_at"]], hide_index=True
        )
    elif not context().dashboard.config.procedures:
        st.info(
            "No recovery procedures: add `procedures:` to vigil.yaml and name one in a rule's "
            "`procedure:` (docs/configuration.md); `vigil demo` shows one at work."
        )


def deployments(at: datetime) -> None:
    st.subheader("What Vigil runs")
    dashboard = context().dashboard
    try:
        table = _deployment_runs(dashboard.prefect_api_url)
    except queries.runs.PrefectUnavailable as exc:
        st.info(f"Deployments are unknown: {exc}. `vigil up` starts the Prefect server.")
        return
    if table.empty:
        st.info("No deployments yet: `vigil up` (or `vigil serve`) registers and runs them.")
        return
    forecast_note(table, at)
    st.table(readable_runs(table, at))


def readable_runs(table: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """Each deployment's last and next run in words: 'COMPLETED 2m ago', 'in 4m (12:35:00)'."""

    def last(row) -> str:  # type: ignore[no-untyped-def]
        if not row.last_state:
            return "not run yet"
        return f"{row.last_state} {ago(row.last_start, at)}" if row.last_start else row.last_state

    def upcoming(row) -> str:  # type: ignore[no-untyped-def]
        if pd.isna(row.next_run):
            return "on demand" if row.schedule == "on demand" else "being scheduled"
        seconds = max(0, int((row.next_run - at).total_seconds()))
        wait = f"{seconds // 60}m {seconds % 60}s" if seconds >= 60 else f"{seconds}s"
        return f"in {wait} ({row.next_run:%H:%M:%S} UTC)"

    rows = list(table.itertuples())
    return pd.DataFrame(
        {
            "Deployment": [row.deployment for row in rows],
            "Last run": [last(row) for row in rows],
            "Next run": [upcoming(row) for row in rows],
            "Schedule": [row.schedule for row in rows],
        }
    ).set_index("Deployment")


def forecast_note(table, at: datetime) -> None:  # type: ignore[no-untyped-def]
    """Until the first forecast is stored, say when it comes."""
    dashboard = context().dashboard
    if not dashboard.config.analytics.series or queries.analytics.has_forecasts(dashboard.engine):
        return
    upcoming = table.loc[table["deployment"] == "forecast/forecast", "next_run"].dropna()
    when = "once the forecast deployment runs"
    if not upcoming.empty:
        minutes = max(0.0, (upcoming.iloc[0] - at).total_seconds()) / 60
        when = f"at {upcoming.iloc[0]:%H:%M:%S} UTC (in {minutes:.0f} min)"
    st.info(
        f"First forecast {when}: the forecast deployment fits each series in "
        "`analytics.series`; forecast and anomaly rules wait for their `min_history`."
    )


@st.cache_data(ttl=10, show_spinner=False)
def _deployment_runs(api_url: str):  # type: ignore[no-untyped-def]
    return queries.runs.deployment_runs(api_url)


def body() -> None:
    at = now()
    freshness(at)
    health(at)
    alerts()
    recoveries()
    deployments(at)
    vigil_itself(at)


refreshing(body)
