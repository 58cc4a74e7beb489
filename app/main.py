"""The dashboard's entry script: `vigil dashboard` serves it through app/asgi.py."""

import streamlit as st

from app import auth
from app.auth import Action
from app.context import load_dashboard
from app.page import PageContext, set_context
from models.errors import ConfigError

st.set_page_config(page_title="Vigil", page_icon=":material/monitor_heart:", layout="wide")

try:
    dashboard = load_dashboard()
except ConfigError as error:
    st.error(f"vigil.yaml is not valid; fix it and reload:\n\n```\n{error}\n```")
    st.stop()

user = auth.current_user(dashboard)
if user is None:
    auth.login_form(dashboard)
    st.stop()
auth.write_cookie()
set_context(PageContext(dashboard, user))

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/metrics.py", title="Metrics", icon=":material/show_chart:"),
    st.Page("views/health.py", title="Health checks", icon=":material/monitor_heart:"),
    st.Page("views/alerts.py", title="Alerts", icon=":material/notifications_active:"),
    st.Page("views/incidents.py", title="Incidents", icon=":material/crisis_alert:"),
    st.Page("views/slo.py", title="SLOs", icon=":material/speed:"),
    st.Page("views/recoveries.py", title="Recoveries", icon=":material/healing:"),
    st.Page("views/runs.py", title="Run history", icon=":material/history:"),
    st.Page("views/models.py", title="Models", icon=":material/model_training:"),
]
if user.can(Action.SEE_ACCESS):
    pages.append(st.Page("views/access.py", title="Access", icon=":material/group:"))
page = st.navigation(pages)

with st.sidebar:
    st.caption(f"Signed in as **{user.name}** ({user.role})")
    if dashboard.settings.users and st.button("Log out"):
        auth.logout(dashboard)
        st.rerun()
    refresh = dashboard.settings.refresh.total_seconds()
    st.caption(f"Refreshes every {refresh:g}s" if refresh else "Auto-refresh is off")

page.run()
