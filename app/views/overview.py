"""Overview: is data arriving, what is unhealthy, what is firing, what is being repaired."""

import streamlit as st

from app import queries
from app.page import ago, context, now, refreshing

st.title("Overview")


def freshness() -> None:
    dashboard = context().dashboard
    at = now()
    last = queries.last_sample_at(dashboard.engine)
    counts = queries.store_counts(dashboard.engine)
    left, middle, right = st.columns(3)
    left.metric("Last sample stored", ago(last, at) if last else "never")
    middle.metric("Series", f"{counts['series']:,}")
    right.metric("Metrics", f"{counts['metrics']:,}")
    stale_after = dashboard.settings.stale_after
    if last is None:
        st.info("No samples stored yet. `vigil up` starts collection; samples appear here.")
    elif queries.is_stale(last, now=at, stale_after=stale_after):
        st.warning(
            f"Data is stale: the newest sample is from {last:%Y-%m-%d %H:%M:%S} UTC, "
            f"more than {stale_after} ago. Is collection running?"
        )


def not_yet(title: str, what: str) -> None:
    st.subheader(title)
    st.info(f"{what} are not available yet: this Vigil's store has no such data.")


def body() -> None:
    freshness()
    not_yet("Health", "Health checks and scores")
    not_yet("Active alerts", "Alerts")
    not_yet("Recoveries", "Recoveries")


refreshing(body)
