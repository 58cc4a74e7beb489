"""Models: forecast and anomaly model versions with their backtest scores."""

import streamlit as st

from app.page import context, refreshing
from models.analytics import ModelVersion
from tasks import queries

STATUSES = ["current", "candidate", "retired", "failed"]
TIME = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")

st.title("Models")


def body() -> None:
    engine = context().dashboard.engine
    if not queries.has_tables(engine, ModelVersion):
        st.info("Models are not available yet: this Vigil's store has no model tables.")
        return
    statuses = st.multiselect("Status", STATUSES, ["current"], key="model_status")
    versions = queries.analytics.model_versions(engine, statuses=statuses)
    if versions.empty:
        st.info("No model version matches. The retrain flow fits models once series have data.")
        return
    beats = (versions["backtest_mase"] < versions["baseline_mase"]).sum()
    left, right = st.columns(2)
    left.metric("Model versions", len(versions))
    right.metric("Beat the seasonal naive baseline", f"{beats} of {len(versions)}")
    st.dataframe(
        versions,
        hide_index=True,
        column_config={
            "backtest_mase": st.column_config.NumberColumn("backtest MASE", format="%.3f"),
            "baseline_mase": st.column_config.NumberColumn("baseline MASE", format="%.3f"),
            **{name: TIME for name in ("train_start", "train_end", "created_at")},
        },
    )
    st.caption("MASE: mean absolute scaled error of the backtest; lower is better.")


refreshing(body)
