"""API tokens and roles as plain values: make a token, digest it, decide what it may do.

A token acts for one dashboard user (``dashboard.users`` in vigil.yaml) with a role no higher
than that user's; a user removed from the config takes their tokens' power with them.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass

from models.config.dashboard import ROLE_RANK, Role

TOKEN_PREFIX = "vigil_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Identity:
    """Who a request acts as: the token's name, its user, and the role it holds now."""

    token: str
    user: str
    role: Role

    @property
    def actor(self) -> str:
        """The name recorded in timelines and audits: ``user/token``.

        >>> Identity("deploy-bot", "ann", Role.OPERATOR).actor
        'ann/deploy-bot'
        """
        return f"{self.user}/{self.token}"


def new_token() -> str:
    """Return a fresh token: the prefix and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Return the stored form of ``token`` (SHA-256, hex).

    >>> len(digest("vigil_x"))
    64
    """
    return hashlib.sha256(token.encode()).hexdigest()


def checked_name(name: str) -> str:
    """Return ``name`` if it can name a token, else raise ValueError saying what is allowed.

    >>> checked_name("ci bot")
    Traceback (most recent call last):
    ...
    ValueError: token name 'ci bot': use 1-64 letters, digits, '.', '_' or '-'
    """
    if not NAME_PATTERN.match(name):
        raise ValueError(f"token name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return name


def granted_role(asked: Role, user_role: Role | None, user: str) -> Role:
    """Return ``asked`` when ``user`` (whose role is ``user_role``, None: unknown) may grant it.

    >>> granted_role(Role.ADMIN, Role.OPERATOR, "ann")
    Traceback (most recent call last):
    ...
    ValueError: ann is an operator in dashboard.users; a token cannot be admin
    """
    if user_role is None:
        raise ValueError(f"no user {user!r} in dashboard.users; add them to vigil.yaml first")
    if ROLE_RANK[asked] > ROLE_RANK[user_role]:
        raise ValueError(f"{user} is {_a(user_role)} in dashboard.users; a token cannot be {asked}")
    return asked


def effective_role(token_role: Role, user_role: Role | None) -> Role | None:
    """The role a token holds now: the lower of its own and its user's (None: user gone).

    >>> effective_role(Role.ADMIN, Role.VIEWER)
    <Role.VIEWER: 'viewer'>
    """
    if user_role is None:
        return None
    return min(token_role, user_role, key=ROLE_RANK.__getitem__)


def refusal(identity: Identity, needed: Role) -> str | None:
    """Say why ``identity`` may not do what needs ``needed``, or None when it may.

    >>> refusal(Identity("bot", "ann", Role.VIEWER), Role.OPERATOR)
    'token bot (ann) is a viewer; this needs operator or above'
    """
    if ROLE_RANK[identity.role] >= ROLE_RANK[needed]:
        return None
    who = f"token {identity.token} ({identity.user})"
    return f"{who} is {_a(identity.role)}; this needs {needed} or above"


def _a(role: Role) -> str:
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"
