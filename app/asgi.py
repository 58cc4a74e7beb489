"""The dashboard as an ASGI app: Streamlit's pages plus the route that sets the session
cookie ``HttpOnly`` (app/cookie_handoff.py). `vigil dashboard` runs this with `streamlit run`."""

from pathlib import Path

import streamlit as st

from app.cookie_handoff import ROUTES

app = st.App(Path(__file__).with_name("main.py"), routes=ROUTES)
