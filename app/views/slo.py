"""SLOs: each objective's SLI, error budget left and burn rates; a budget burn-down chart."""

import streamlit as st

from app import charts
from app.page import context, now, refreshing
from models.checks import CheckResult
from tasks import queries

st.title("SLOs")


def body() -> None:
    dashboard = context().dashboard
    config, engine = dashboard.config, dashboard.engine
    if not config.slos:
        st.info("No SLOs yet. Add `slos:` to vigil.yaml (see docs/slo.md).")
        return
    if not queries.has_tables(engine, CheckResult):
        st.info("SLOs are not available yet: this Vigil's store has no check tables.")
        return
    at = now()
    table = queries.slo.slos(engine, config, now=at)
    st.dataframe(
        table[list(queries.slo.COLUMNS)],
        hide_index=True,
        column_config={
            "target": st.column_config.NumberColumn("target", format="percent"),
            "sli": st.column_config.NumberColumn("SLI", format="percent"),
            "budget_remaining": st.column_config.ProgressColumn(
                "budget left", min_value=0.0, max_value=1.0, format="percent"
            ),
            "window_days": st.column_config.NumberColumn("window (days)"),
            "burning": st.column_config.TextColumn("burning", help="Burn-rate pairs firing now."),
        },
    )
    name = st.selectbox("Budget burn-down of", list(table["slo"]))
    row = table[table["slo"] == name].iloc[0]
    st.caption(
        f"{row['bad']:.0f} of {row['allowed_bad']:.0f} bad {row['unit']} allowed in the window "
        "are spent; each point is the budget left over the window ending there."
    )
    st.altair_chart(charts.budget_chart(queries.slo.burn_down(engine, config, name, now=at)))


refreshing(body)
