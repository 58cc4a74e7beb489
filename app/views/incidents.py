"""Incidents: alerts on related targets (or on series that moved together) grouped, with the
likely cause and how each ended."""

from datetime import timedelta

import streamlit as st

from app.page import context, now, refreshing
from tasks import queries

st.title("Incidents")


def body() -> None:
    engine = context().dashboard.engine
    if not queries.has_tables(engine, *queries.incidents.TABLES):
        st.info("Incidents are not available yet: this Vigil's store has no incident tables.")
        return
    days = st.segmented_control("Span", [1, 7, 30], default=7, format_func=lambda d: f"{d} d")
    at = now()
    table = queries.incidents.incidents(engine, since=at - timedelta(days=days or 7), until=at)
    if table.empty:
        st.info(
            "No incident in this span. Alerts on related targets (`depends_on`) or on series "
            "that moved together group here."
        )
        return
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "started_at": st.column_config.DatetimeColumn("started (UTC)"),
            "ended_at": st.column_config.DatetimeColumn("ended (UTC)"),
            "cause": st.column_config.TextColumn(
                "likely cause", help="The most upstream failing target, else the earliest signal."
            ),
            "cause_rule": st.column_config.TextColumn("cause's rule"),
            "ending": st.column_config.TextColumn(
                "how it ended", help="auto-fixed, fixed by a person or resolved by itself."
            ),
        },
    )


refreshing(body)
