"""Access (admins only): who may log in, and with which role."""

import pandas as pd
import streamlit as st

from app.auth import NEEDED_ROLE, Action
from app.page import context

st.title("Access")
dashboard = context().dashboard
if not context().user.can(Action.SEE_ACCESS):
    st.error("Only admins can see this page.")
    st.stop()
users = dashboard.settings.users
st.dataframe(
    pd.DataFrame([{"user": u.name, "role": str(u.role)} for u in users], columns=["user", "role"]),
    hide_index=True,
)
st.dataframe(
    pd.DataFrame([{"action": str(a), "needs": str(r)} for a, r in NEEDED_ROLE.items()]),
    hide_index=True,
)
st.caption(
    f"Users come from `dashboard.users` in `{dashboard.config_path}`; "
    "add one with a hash from `vigil dashboard hash-password`."
)
