"""Logins and roles: who is looking, and what they may change.

Users, roles and scrypt password hashes come from ``dashboard.users`` in vigil.yaml. With no
users configured the dashboard is open read-only: everyone is an anonymous viewer.

A login is kept in a signed cookie (``vigil_session``) that survives page reloads for
``dashboard.session_lifetime``; the server sets it ``HttpOnly`` (app/cookie_handoff.py).
Logging out ends it in the store, so a copied cookie dies too. Wrong passwords are
throttled and lock the account (tasks/access/door.py).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import streamlit as st

from app.context import Dashboard
from app.cookie_handoff import SESSION_PATH, Cookie, park
from models.access import LoginEvent
from models.config.dashboard import ROLE_RANK, DashboardConfig, Role
from models.vocabulary.passwords import verify_password
from tasks.access.door import (
    is_session_open,
    record,
    session_key,
    try_login,
)
from tasks.core.access.door import DoorPolicy
from tasks.core.access.session_token import SessionClaim, read, sign

_SESSION_KEY = "vigil_user"  # user name of this browser tab
_SESSION_ID = "vigil_session_id"  # its session in the login audit
_COOKIE = "vigil_session"
_TICKET = "vigil_cookie_ticket"  # the ticket of a cookie to set (or clear) on the next run


class Action(StrEnum):
    """Something that changes state; each needs a minimum role."""

    ACKNOWLEDGE = "acknowledge alerts"
    SILENCE = "create and expire silences"
    DECIDE_RECOVERY = "approve or reject recoveries"
    SEE_ACCESS = "see who has access"


NEEDED_ROLE = {
    Action.ACKNOWLEDGE: Role.OPERATOR,
    Action.SILENCE: Role.OPERATOR,
    Action.DECIDE_RECOVERY: Role.OPERATOR,
    Action.SEE_ACCESS: Role.ADMIN,
}


@dataclass(frozen=True)
class User:
    """Someone using the dashboard."""

    name: str
    role: Role

    def can(self, action: Action) -> bool:
        """Return True when this user's role allows ``action``.

        >>> User("ann", Role.VIEWER).can(Action.ACKNOWLEDGE)
        False
        """
        return ROLE_RANK[self.role] >= ROLE_RANK[NEEDED_ROLE[action]]


ANONYMOUS = User("anonymous", Role.VIEWER)


def authenticate(config: DashboardConfig, name: str, password: str) -> User | None:
    """Return the user whose name and password match, or None."""
    for user in config.users:
        if user.name == name and verify_password(password, user.password_hash):
            return User(user.name, user.role)
    return None


def policy(config: DashboardConfig) -> DoorPolicy:
    """The door's hardness from the ``dashboard:`` section."""
    return DoorPolicy(lockout_after=config.lockout_after, lockout_for=config.lockout_duration)


def current_user(dashboard: Dashboard) -> User | None:
    """Return the logged-in user, from this tab or from a valid session cookie.

    Users are re-read from the config, so a removed user is logged out; a session that was
    logged out (in any tab) is over.
    """
    config = dashboard.settings
    if not config.users:
        return ANONYMOUS
    if _SESSION_KEY not in st.session_state and (claim := _from_cookie(dashboard)):
        st.session_state[_SESSION_KEY], st.session_state[_SESSION_ID] = claim
    name, session_id = st.session_state.get(_SESSION_KEY), st.session_state.get(_SESSION_ID)
    if session_id and not is_session_open(dashboard.engine, session_id):
        _forget()
        return None
    for user in config.users:
        if user.name == name:
            return User(user.name, user.role)
    return None


def _forget() -> tuple[str | None, str | None]:
    return st.session_state.pop(_SESSION_KEY, None), st.session_state.pop(_SESSION_ID, None)


def _from_cookie(dashboard: Dashboard) -> tuple[str, str] | None:
    token = st.context.cookies.get(_COOKIE)
    if not token:
        return None
    claim = read(token, _key(dashboard), now=datetime.now(UTC))
    return None if claim is None else (claim.user, claim.session_id)


def login_form(dashboard: Dashboard) -> None:
    """Show the login form; on success remember the user (tab and cookie) and rerun."""
    write_cookie()
    st.title("Vigil")
    with st.form("login"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in")
    if not submitted:
        return
    config, now, name = dashboard.settings, datetime.now(UTC), name.strip()
    outcome = try_login(
        dashboard.engine,
        name,
        lambda: authenticate(config, name, password) is not None,
        policy(config),
        now=now,
        client=_client_address(),
    )
    if outcome.session_id is None:
        st.error(outcome.message)
        return
    st.session_state[_SESSION_KEY], st.session_state[_SESSION_ID] = name, outcome.session_id
    claim = SessionClaim(name, outcome.session_id, now + config.session_lifetime)
    seconds = int(config.session_lifetime.total_seconds())
    st.session_state[_TICKET] = park(Cookie(_COOKIE, sign(claim, _key(dashboard)), seconds))
    st.rerun()


def _client_address() -> str:
    address = st.context.ip_address
    return address if isinstance(address, str) else ""  # none in tests and on loopback


def logout(dashboard: Dashboard) -> None:
    """End this session in the store (every tab and cookie of it) and forget it here."""
    name, session_id = _forget()
    if name is not None:
        now = datetime.now(UTC)
        record(dashboard.engine, name, LoginEvent.LOGOUT, now=now, session_id=session_id)
    st.session_state[_TICKET] = park(Cookie(_COOKIE, "", 0))


def write_cookie() -> None:
    """Have the server set (or clear) the session cookie, once, after a login or logout.

    The page only posts the ticket; the response sets the cookie (app/cookie_handoff.py).
    """
    ticket = st.session_state.pop(_TICKET, None)
    if ticket is None:
        return
    where = f"{SESSION_PATH}/{ticket}"
    script = f"fetch({where!r}, {{method: 'POST', credentials: 'same-origin'}});"
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def _key(dashboard: Dashboard) -> bytes:
    return session_key(dashboard.state_dir / "dashboard-session.key")


def require(user: User, action: Action) -> bool:
    """Return True when ``user`` may do ``action``; otherwise say why not (for controls)."""
    if user.can(action):
        return True
    st.caption(f"Only {NEEDED_ROLE[action]}s and above can {action}; you are a {user.role}.")
    return False
