"""Logins and roles: who is looking, and what they may change.

Users, roles and scrypt password hashes come from ``dashboard.users`` in vigil.yaml. With no
users configured the dashboard is open read-only: everyone is an anonymous viewer.
"""

from dataclasses import dataclass
from enum import StrEnum

import streamlit as st

from models.config.dashboard import ROLE_RANK, DashboardConfig, Role
from models.vocabulary.passwords import verify_password

_SESSION_KEY = "vigil_user"


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


def current_user(config: DashboardConfig) -> User | None:
    """Return the logged-in user (re-read from the config, so removed users are logged out)."""
    if not config.users:
        return ANONYMOUS
    name = st.session_state.get(_SESSION_KEY)
    for user in config.users:
        if user.name == name:
            return User(user.name, user.role)
    return None


def login_form(config: DashboardConfig) -> None:
    """Show the login form; on success remember the user and rerun."""
    st.title("Vigil")
    with st.form("login"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        user = authenticate(config, name.strip(), password)
        if user is None:
            st.error("Wrong user name or password.")
            return
        st.session_state[_SESSION_KEY] = user.name
        st.rerun()


def logout() -> None:
    """Forget the logged-in user."""
    st.session_state.pop(_SESSION_KEY, None)


def require(user: User, action: Action) -> bool:
    """Return True when ``user`` may do ``action``; otherwise say why not (for controls)."""
    if user.can(action):
        return True
    st.caption(f"Only {NEEDED_ROLE[action]}s and above can {action}; you are a {user.role}.")
    return False
