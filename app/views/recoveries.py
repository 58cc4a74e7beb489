"""Recoveries: runs with their steps, durations, results and rollbacks; approvals."""

import streamlit as st

from app import actions
from app.auth import Action, require
from app.page import context, done, refreshing
from models.access import ApprovalPath
from tasks import queries
from tasks.recovery.approval_codes import CODE_LIFETIME

TIME = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")

st.title("Recoveries")


def body() -> None:
    dashboard = context().dashboard
    engine = dashboard.engine
    if not queries.has_tables(engine, *queries.recovery.TABLES):
        st.info("Recoveries are not available yet: this Vigil's store has no recovery tables.")
        return
    runs = queries.recovery.recovery_runs(engine)
    if runs.empty:
        st.info("No recovery has run yet. Procedures run when their alert fires.")
        return
    awaiting = runs[runs["state"] == "awaiting_approval"]
    if not awaiting.empty:
        st.subheader("Awaiting approval")
        for run in awaiting.itertuples():
            approval(run, dashboard.prefect_ui_url, dashboard.prefect_api_url)
    st.subheader("Runs")
    shown = runs.assign(
        link=[
            queries.runs.run_url(dashboard.prefect_ui_url, i) if isinstance(i, str) else None
            for i in runs["flow_run_id"]
        ]
    ).drop(columns=["flow_run_id"])
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "requested_at": TIME,
            "finished_at": TIME,
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
            "link": st.column_config.LinkColumn("Prefect UI", display_text="open"),
        },
    )
    run_id = st.selectbox("Steps of run", list(runs["id"]), key="recovery_run")
    audit = queries.recovery.recovery_audit(engine, int(run_id))
    if audit.empty:
        st.info(f"Run {run_id} has no recorded steps yet.")
    else:
        after = st.column_config.NumberColumn("after (s)", format="%.2f")
        st.dataframe(audit, hide_index=True, column_config={"at": TIME, "after_s": after})


def approval(run, ui_url: str, api_url: str) -> None:  # type: ignore[no-untyped-def]
    with st.container(border=True):
        st.markdown(
            f"**Run {run.id}: `{run.procedure}` on `{run.target}`** "
            f"(trigger {run.trigger}, requested {run.requested_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
        if run.flow_run_id:
            st.link_button("Open in the Prefect UI", queries.runs.run_url(ui_url, run.flow_run_id))
        if not require(context().user, Action.DECIDE_RECOVERY) or not run.flow_run_id:
            return
        codes(run)
        with st.form(f"decide-{run.id}"):
            reason = st.text_input("Reason", key=f"reason-{run.id}")
            left, right = st.columns(2)
            approve = left.form_submit_button("Approve", type="primary")
            reject = right.form_submit_button("Reject")
        if approve or reject:
            decide(run, api_url, approved=approve, reason=reason)


def codes(run) -> None:  # type: ignore[no-untyped-def]
    """Offer this user a one-time code to answer in the Prefect UI or with the CLI."""
    left, right = st.columns(2)
    for column, path in ((left, ApprovalPath.PREFECT_UI), (right, ApprovalPath.CLI)):
        if column.button(f"My code for the {path}", key=f"code-{path}-{run.id}"):
            code = actions.approval_code(
                context().dashboard.engine, context().user, run.flow_run_id, path
            )
            column.code(code, language=None)
            column.caption(
                f"For run {run.id} only, as {context().user.name}; valid "
                f"{CODE_LIFETIME.total_seconds() / 60:g} minutes, once."
            )


def decide(run, api_url: str, *, approved: bool, reason: str) -> None:  # type: ignore[no-untyped-def]
    engine, user = context().dashboard.engine, context().user
    try:
        actions.decide_recovery(
            engine, api_url, user, run.flow_run_id, approved=approved, reason=reason
        )
    except (ValueError, queries.runs.PrefectUnavailable) as exc:
        st.error(str(exc))
        return
    done(f"Run {run.id} {'approved' if approved else 'rejected'}: {reason}")


refreshing(body)
