"""Access (admins only): who may log in, lockouts, the login audit and the config audit."""

import pandas as pd
import streamlit as st

from app.auth import NEEDED_ROLE, Action, policy
from app.page import context, done, now
from models.access import ConfigLoad, LoginAudit
from tasks.access.config_audit import config_loads
from tasks.access.door import login_audit, state_of, unlock
from tasks.core.access.door import Entry
from tasks.queries.frames import has_tables

TIME = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")

st.title("Access")
dashboard = context().dashboard
if not context().user.can(Action.SEE_ACCESS):
    st.error("Only admins can see this page.")
    st.stop()
users, engine, at = dashboard.settings.users, dashboard.engine, now()
audited = has_tables(engine, LoginAudit, ConfigLoad)
states = {u.name: state_of(engine, u.name, policy(dashboard.settings), now=at) for u in users}
st.dataframe(
    pd.DataFrame(
        [
            {
                "user": u.name,
                "role": str(u.role),
                "door": str(states[u.name].entry) if audited else "?",
                "until": states[u.name].until if audited else None,
            }
            for u in users
        ],
        columns=["user", "role", "door", "until"],
    ),
    hide_index=True,
    column_config={"until": TIME},
)
for name, state in states.items():
    if audited and state.entry == Entry.LOCKED and st.button(f"Lift the lockout of {name}"):
        unlock(engine, name, by=context().user.name, now=at)
        done(f"{name} may log in again.")
st.dataframe(
    pd.DataFrame([{"action": str(a), "needs": str(r)} for a, r in NEEDED_ROLE.items()]),
    hide_index=True,
)
st.caption(
    f"Users come from `dashboard.users` in `{dashboard.config_path}`; "
    "add one with a hash from `vigil dashboard hash-password`."
)
if not audited:
    st.info("The store has no access audit yet; run `vigil db upgrade`.")
    st.stop()
st.subheader("Logins")
logins = [r.model_dump(exclude={"id", "session_id"}) for r in login_audit(engine)]
st.dataframe(
    pd.DataFrame(logins, columns=["at", "user", "event", "client", "detail"]),
    hide_index=True,
    column_config={"at": TIME},
)
st.subheader("Configuration loads")
loads = [r.model_dump(exclude={"id", "fingerprint"}) for r in config_loads(engine)]
columns = ["at", "process", "started_by", "sha256", "diff", "path"]
st.dataframe(pd.DataFrame(loads, columns=columns), hide_index=True, column_config={"at": TIME})
