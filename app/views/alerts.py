"""Alerts: active and past alerts with filters, acknowledgement, silences, deliveries, the
circuit breakers of channels, scrape targets and recovery steps, and one alert's timeline."""

from datetime import timedelta

import streamlit as st

from app import actions
from app.auth import Action, require
from app.page import context, done, now, refreshing
from models.errors import MatcherError
from models.vocabulary.durations import parse_duration
from models.vocabulary.selectors import parse_selector
from models.vocabulary.severity import MOST_SEVERE_FIRST
from tasks import queries

STATES = ["pending", "firing", "resolved", "inactive"]
SEVERITIES = [str(s) for s in MOST_SEVERE_FIRST]
TIME = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")

st.title("Alerts")


def body() -> None:
    engine = context().dashboard.engine
    if not queries.has_tables(engine, *queries.alerting.TABLES):
        st.info("Alerts are not available yet: this Vigil's store has no alert tables.")
        return
    active, history, silences, deliveries, breakers, timeline = st.tabs(
        ["Alerts", "History", "Silences", "Deliveries", "Breakers", "Timeline"]
    )
    with active:
        alert_list(engine)
    with history:
        transitions = queries.alerting.alert_transitions(engine, since=now() - timedelta(days=7))
        if transitions.empty:
            st.info("No alert changed state in the last 7 days.")
        else:
            st.dataframe(transitions, hide_index=True, column_config={"at": TIME})
    with silences:
        silence_list(engine)
    with deliveries:
        sent = queries.alerting.deliveries(engine)
        if sent.empty:
            st.info("No notification was sent yet.")
        else:
            st.dataframe(sent, hide_index=True, column_config={"created_at": TIME, "sent_at": TIME})
    with breakers:
        breaker_list(engine)
    with timeline:
        alert_timeline(engine)


def alert_list(engine) -> None:  # type: ignore[no-untyped-def]
    cols = st.columns(3)
    states = cols[0].multiselect("State", STATES, ["pending", "firing"], key="alert_states")
    severities = cols[1].multiselect("Severity", SEVERITIES, placeholder="all", key="severities")
    matchers = cols[2].text_input("Labels", placeholder='{target="db-1"}', key="alert_labels")
    try:
        selector = parse_selector(matchers) if matchers.strip() else None
    except MatcherError as exc:
        st.error(f"Label filter: {exc}")
        return
    found = queries.alerting.alerts(engine, states=states, severities=severities, selector=selector)
    if found.empty:
        st.info("No alert matches. All quiet.")
        return
    counts = found["severity"].value_counts()
    for column, severity in zip(st.columns(3), SEVERITIES, strict=True):
        column.metric(severity.title(), int(counts.get(severity, 0)))
    shown = found.assign(labels=found["labels"].map(_labels_text))
    time_columns = ("active_since", "fired_at", "resolved_at", "ack_at", "ack_expires_at")
    st.dataframe(shown, hide_index=True, column_config=dict.fromkeys(time_columns, TIME))
    acknowledge_form(engine, found)


def acknowledge_form(engine, found) -> None:  # type: ignore[no-untyped-def]
    st.subheader("Acknowledge")
    user = context().user
    if not require(user, Action.ACKNOWLEDGE):
        return
    firing = found[found["state"] == "firing"]
    open_alerts = firing[firing["ack_by"].isna()]
    if open_alerts.empty:
        st.caption("Every firing alert shown is acknowledged.")
    else:
        with st.form("ack"):
            labels = _choices(open_alerts)
            alert_id = st.selectbox("Alert", list(labels), format_func=labels.get, key="ack_alert")
            comment = st.text_input("Comment", key="ack_comment")
            expires = st.text_input(
                "Expires after", placeholder="2h (blank: until it resolves)", key="ack_expires"
            )
            if st.form_submit_button("Acknowledge"):
                _acknowledge(engine, user, int(alert_id), comment, expires)
    held = firing[firing["ack_by"].notna()]
    if not held.empty:
        with st.form("unack"):
            labels = _choices(held)
            alert_id = st.selectbox(
                "Alert", list(labels), format_func=labels.get, key="unack_alert"
            )
            if st.form_submit_button("Give back"):
                actions.unacknowledge_alert(engine, user, int(alert_id), now=now())
                done(
                    f"Alert #{alert_id} is no longer acknowledged; it repeats and escalates again."
                )


def _acknowledge(engine, user, alert_id: int, comment: str, expires: str) -> None:  # type: ignore[no-untyped-def]
    try:
        lasting = parse_duration(expires) if expires.strip() else None
        actions.acknowledge_alert(engine, user, alert_id, comment, now=now(), expires=lasting)
    except (ValueError, LookupError) as exc:
        st.error(str(exc))
        return
    done(f"Acknowledged alert #{alert_id}.")


def _choices(alerts) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {
        row.id: f"#{row.id} {row.rule} {_labels_text(row.labels)}" for row in alerts.itertuples()
    }


def breaker_list(engine) -> None:  # type: ignore[no-untyped-def]
    """Every circuit breaker's state, then their latest changes."""
    if not queries.has_tables(engine, *queries.breakers.TABLES):
        st.info("Breakers are not available yet: this Vigil's store has no breaker tables.")
        return
    states = queries.breakers.breaker_states(engine)
    if states.empty:
        st.success("Every breaker is closed: no channel, scrape target or recovery step failing.")
    else:
        shut = int((states["state"] != "closed").sum())
        st.caption(f"{shut} of {len(states)} breakers open or probing; the others are closed.")
        st.dataframe(states, hide_index=True, column_config={"opened_at": TIME})
    changes = queries.breakers.breaker_transitions(engine)
    if not changes.empty:
        st.subheader("Latest changes")
        st.dataframe(changes, hide_index=True, column_config={"at": TIME})


def alert_timeline(engine) -> None:  # type: ignore[no-untyped-def]
    """One alert's history; a notification's link (?fingerprint=…) opens its alert here."""
    every = queries.alerting.alerts(engine)
    if every.empty:
        st.info("No alert yet.")
        return
    labels = _choices(every)
    wanted = st.query_params.get("fingerprint")
    chosen = queries.alerting.alert_id(engine, wanted) if wanted else None
    if wanted and chosen is None:
        st.warning(f"No alert has fingerprint {wanted}; pick one below.")
    elif chosen is not None and chosen not in labels:  # older than the list shows
        labels = {chosen: f"#{chosen} (from the link)", **labels}
    ids = list(labels)
    index = ids.index(chosen) if chosen in ids else 0
    alert_id = st.selectbox("Alert", ids, index=index, format_func=labels.get, key="timeline_alert")
    events = queries.alerting.alert_timeline(engine, int(alert_id))
    st.dataframe(events, hide_index=True, column_config={"at": TIME})


def silence_list(engine) -> None:  # type: ignore[no-untyped-def]
    user = context().user
    current = queries.alerting.silences(engine, now=now())
    if current.empty:
        st.info("No silence is active.")
    else:
        time_columns = {"starts_at": TIME, "ends_at": TIME}
        st.dataframe(current, hide_index=True, column_config=time_columns)
    if not require(user, Action.SILENCE):
        return
    with st.form("silence"):
        st.markdown("**New silence**")
        matchers = st.text_input("Matchers", placeholder='{target="db-1"}', key="silence_matchers")
        duration = st.text_input("For", "1h", key="silence_for")
        comment = st.text_input("Comment", key="silence_comment")
        if st.form_submit_button("Silence"):
            try:
                silence_id = actions.create_silence(
                    engine, user, matchers, parse_duration(duration), comment, now=now()
                )
            except (ValueError, MatcherError) as exc:
                st.error(str(exc))
            else:
                done(f"Silence #{silence_id} is active.")
    if not current.empty:
        with st.form("expire"):
            silence_id = st.selectbox("Silence", list(current["id"]), key="expire_id")
            if st.form_submit_button("Expire now"):
                ended = actions.expire_silence(engine, user, int(silence_id), now=now())
                done(f"Silence #{silence_id} {'ended' if ended else 'had already ended'}.")


def _labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


refreshing(body)
