"""Health checks: status, soft/hard state, flapping, latency history, dependency tree."""

from datetime import timedelta

import streamlit as st

from app import charts
from app.page import context, now, refreshing
from tasks import queries
from tasks.alerting.plan import flap_params

st.title("Health checks")


def body() -> None:
    dashboard = context().dashboard
    engine = dashboard.engine
    if not queries.has_tables(engine, *queries.checks.TABLES):
        st.info("Health checks are not available yet: this Vigil's store has no check tables.")
        return
    at = now()
    states = queries.checks.check_states(
        engine,
        since=at - timedelta(hours=6),
        flap=flap_params(dashboard.config.alerting.flapping),
    )
    if states.empty:
        st.info("No check has run yet. Add `checks:` to vigil.yaml; results appear after a run.")
        return
    system_score(engine, at)
    st.subheader("Checks")
    st.dataframe(
        states,
        hide_index=True,
        column_config={
            "is_flapping": st.column_config.CheckboxColumn("flapping"),
            "changes": st.column_config.NumberColumn(
                "changes", help="Status changes within the flap window (alerting.flapping)."
            ),
            "since": st.column_config.DatetimeColumn("since (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "checked_at": st.column_config.DatetimeColumn(
                "checked (UTC)", format="YYYY-MM-DD HH:mm:ss"
            ),
        },
    )
    check_detail(engine, list(states["check"]), at)
    dependency_tree(engine, states)


def system_score(engine, at) -> None:  # type: ignore[no-untyped-def]
    trend = queries.checks.health_trend(engine, "system", since=at - timedelta(days=1))
    if trend.empty:
        return
    newest = trend.iloc[-1]
    score = "unknown" if newest["score"] != newest["score"] else f"{newest['score']:.0f}"
    st.metric("System health (last 24 hours)", score, help=f"level: {newest['level']}")
    st.altair_chart(charts.score_trend_chart(trend), width="stretch")


def check_detail(engine, checks: list[str], at) -> None:  # type: ignore[no-untyped-def]
    st.subheader("History")
    check = st.selectbox("Check", checks, key="health_check")
    history = queries.checks.check_history(engine, check, since=at - timedelta(days=1))
    if history.empty:
        st.info(f"`{check}` has no results in the last 24 hours.")
        return
    st.altair_chart(charts.latency_chart(history), width="stretch")
    st.dataframe(history.iloc[::-1].head(50), hide_index=True)


def dependency_tree(engine, states) -> None:  # type: ignore[no-untyped-def]
    config = context().dashboard.config
    checks = {c.name: list(c.depends_on) for c in config.checks}
    targets = {t.name: list(t.depends_on) for t in config.targets}
    if any(checks.values()):
        st.subheader("Check dependencies")
        st.caption("A check whose parent is down reports unreachable instead of down.")
        status = states.set_index("check")["status"].to_dict()
        st.graphviz_chart(charts.dependency_dot(checks, status, charts.STATUS_COLORS))
    if any(targets.values()):
        st.subheader("Target dependencies")
        levels = queries.checks.newest_health(engine, "target").set_index("node")["level"].to_dict()
        st.graphviz_chart(charts.dependency_dot(targets, levels))


refreshing(body)
