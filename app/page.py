"""What a page starts with: the dashboard, the user, and an auto-refreshing body."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.auth import User
from app.context import Dashboard
from models.metrics import Sample, Series
from tasks.queries.frames import has_tables

_KEY = "vigil_page_context"
_FLASH = "vigil_flash"


@dataclass(frozen=True)
class PageContext:
    """Set by the entry script before it runs a page."""

    dashboard: Dashboard
    user: User


def set_context(context: PageContext) -> None:
    """Hand the entry script's dashboard and user to the page it is about to run."""
    st.session_state[_KEY] = context


def context() -> PageContext:
    """Return the dashboard and user of this session."""
    return st.session_state[_KEY]


def refreshing(body: Callable[[], None], *, needs_store: bool = True) -> None:
    """Run ``body`` now and again every ``dashboard.refresh`` (0s: only on interaction).

    A store that cannot be read, or has no schema yet, gets a message instead of a traceback.
    """
    seconds = context().dashboard.settings.refresh.total_seconds()

    def guarded() -> None:
        dashboard = context().dashboard
        if message := st.session_state.pop(_FLASH, None):
            st.success(message)
        try:
            if needs_store and not has_tables(dashboard.engine, Series, Sample):
                st.info(
                    f"The store `{dashboard.database_url}` has no tables yet. "
                    "Run `vigil db upgrade` (or `vigil up`) to create them."
                )
                return
            body()
        except (OperationalError, ProgrammingError) as exc:
            st.error(f"Cannot read the store `{dashboard.database_url}`: {exc.orig}")

    st.fragment(run_every=seconds or None)(guarded)()


def done(message: str) -> None:
    """Rerun the app so every table shows the change, then say ``message`` on top."""
    st.session_state[_FLASH] = message
    st.rerun()


def now() -> datetime:
    """The one clock of a page run."""
    return datetime.now(UTC)


def ago(then: datetime, now: datetime) -> str:
    """Say how long ago ``then`` was, roughly.

    >>> ago(datetime(2026, 1, 1, 11, 58, tzinfo=UTC), datetime(2026, 1, 1, 12, tzinfo=UTC))
    '2m ago'
    """
    seconds = int((now - then).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"
