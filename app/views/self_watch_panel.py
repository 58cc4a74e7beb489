"""The Overview's "Vigil itself" section: its own alerts, outbox and dead man's switch."""

from datetime import datetime

import streamlit as st

from app.page import ago, context
from models.alerting import Alert, Notification
from tasks import queries


def vigil_itself(at: datetime) -> None:
    """Show whether Vigil is healthy by its own rules, and when its heartbeat last went out."""
    st.subheader("Vigil itself")
    dashboard = context().dashboard
    watch, engine = dashboard.config.self_watch, dashboard.engine
    if not watch.enabled:
        st.caption("Self-watch is off (`self_watch: {enabled: false}`).")
        return
    if not queries.has_tables(engine, Alert, Notification):
        st.info("Vigil's own alerts are not available yet: this store has no alert tables.")
        return
    depth, oldest_s = queries.self_watch.outbox_state(engine, at)
    beat = queries.self_watch.heartbeat_at(engine, watch)
    cols = st.columns(3)
    cols[0].metric("Notices waiting", depth)
    cols[1].metric("Oldest waiting", f"{oldest_s:.0f} s" if depth else "none")
    if watch.heartbeat is None:
        cols[2].metric("Heartbeat", "not configured")
        st.caption(
            "Set `self_watch.heartbeat: {channel: NAME, every: 5m}` so a receiver outside "
            "Vigil notices when it stops."
        )
    else:
        cols[2].metric(
            f"Heartbeat to {watch.heartbeat.channel}", ago(beat, at) if beat else "never"
        )
    firing = queries.self_watch.own_alerts(engine, watch)
    if firing.empty:
        st.success("Vigil's own rules see nothing wrong.")
    else:
        st.error(f"{len(firing)} of Vigil's own alerts are active.")
        st.dataframe(firing, hide_index=True)
