"""Metrics: pick a series by name and labels, pick a time range, see and export its history."""

from datetime import datetime, time, timedelta

import streamlit as st

from app import charts
from app.context import engine_for
from app.page import context, now, refreshing
from app.timerange import CUSTOM, PRESETS, custom_range, preset_range
from models.analytics import AnomalyScore, ForecastPoint
from models.vocabulary.durations import format_duration
from tasks import queries

MAX_SERIES = 20
SOURCES = {"raw": "raw samples", "1m": "1-minute rollups", "1h": "1-hour rollups"}
ANOMALY_SCORE = 0.9  # detectors score in [0, 1]; mark samples at or above this

st.title("Metrics")


def pick_range(at: datetime) -> tuple[datetime, datetime] | None:
    choice = st.selectbox("Time range", [*PRESETS, CUSTOM], index=3, key="range")
    if choice != CUSTOM:
        return preset_range(choice, now=at)
    day = at.date()
    cols = st.columns(4)
    start_day = cols[0].date_input("Start day (UTC)", day - timedelta(days=1), key="start_day")
    start_time = cols[1].time_input("Start time", time(0), key="start_time")
    end_day = cols[2].date_input("End day (UTC)", day, key="end_day")
    end_time = cols[3].time_input("End time", at.time().replace(microsecond=0), key="end_time")
    try:
        return custom_range(start_day, start_time, end_day, end_time)
    except ValueError as exc:
        st.error(str(exc))
        return None


def overlays(engine, series, span) -> dict:  # type: ignore[no-untyped-def]
    """What else is known about the charted series: forecast, anomalies, alert thresholds."""
    ids = [s.id for s in series]
    found: dict = {
        "thresholds": queries.alerting.rule_thresholds(context().dashboard.config.rules, series)
    }
    if queries.has_tables(engine, ForecastPoint):
        ahead = queries.analytics.forecast(engine, ids)
        found["forecast"] = queries.metrics.with_labels(ahead[ahead["ts"] >= span[0]], series)
    if queries.has_tables(engine, AnomalyScore):
        marked = queries.analytics.anomalies(engine, ids, *span, min_score=ANOMALY_SCORE)
        found["anomalies"] = queries.metrics.with_labels(marked, series)
    return found


@st.cache_data(ttl=60, show_spinner=False)
def _names(url: str) -> list[str]:
    """Metric names, read at most once a minute (auto-refresh reruns often)."""
    return queries.metrics.metric_names(engine_for(url))


@st.cache_data(ttl=60, show_spinner=False)
def _labels(url: str, name: str) -> dict[str, list[str]]:
    """Label values of a metric, read at most once a minute."""
    return queries.metrics.label_values(engine_for(url), name)


def body() -> None:
    dashboard = context().dashboard
    engine = dashboard.engine
    names = _names(dashboard.database_url)
    if not names:
        st.info("No metrics stored yet. Once collection runs, pick a series here.")
        return
    name = st.selectbox("Metric", names, key="metric")
    labels = _labels(dashboard.database_url, name)
    chosen = {}
    if labels:
        cols = st.columns(min(len(labels), 4))
        for index, (label, values) in enumerate(labels.items()):
            chosen[label] = cols[index % len(cols)].multiselect(
                label, values, key=f"label:{name}:{label}", placeholder="any"
            )
    span = pick_range(now())
    if span is None:
        return
    series = queries.metrics.find_series(engine, queries.metrics.build_selector(name, chosen))
    if len(series) > MAX_SERIES:
        st.warning(
            f"{len(series)} series match; showing the first {MAX_SERIES}. "
            "Narrow the label filters to see others."
        )
        series = series[:MAX_SERIES]
    retention = context().dashboard.config.collectors.retention
    resolution = queries.metrics.history_resolution(*span, now=now(), retention=retention)
    history = queries.metrics.series_history(engine, series, *span, resolution=resolution)
    frame = history.frame
    if frame.empty:
        st.info(f"No samples of `{name}` between {span[0]:%Y-%m-%d %H:%M} and {span[1]:%H:%M} UTC.")
        return
    chart = charts.history_chart(frame, unit=series[0].unit, **overlays(engine, series, span))
    st.altair_chart(chart, width="stretch")
    every = format_duration(timedelta(milliseconds=history.step_ms))
    sources = " and ".join(SOURCES[source] for source in history.sources)
    st.caption(
        f"{len(frame):,} points, {len(series)} series; each point averages {every} of {sources}."
    )
    st.download_button(
        "Download CSV",
        queries.metrics.history_csv(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
    )


refreshing(body)
