"""Establish who a command-line write acts as: an API token (checked against the store as
the API checks it) or the local admin (the OS user who owns the state directory)."""

import getpass
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine

from models.config.dashboard import DashboardUser, Role
from models.errors import AccessError
from tasks.api.token_store import identify
from tasks.api.unavailable import UNAVAILABLE, one_line
from tasks.core.access.cli_identity import (
    DEFAULT_TOKEN_FILE,
    NO_IDENTITY,
    TOKEN_ENV,
    Actor,
    admin_refusal,
    local_admin,
    token_actor,
    token_file_refusal,
)
from tasks.core.api.tokens import refusal


def presented_token(env: Mapping[str, str], token_file: Path | None) -> tuple[str, str] | None:
    """Return (token, where it came from): the named ``token_file``, else
    ``$VIGIL_API_TOKEN``, else the default file if it exists; None when there is none.

    Raises:
        AccessError: the file is missing (when named), readable by others, or empty.
    """
    if token_file is None and (value := env.get(TOKEN_ENV, "").strip()):
        return value, f"${TOKEN_ENV}"
    path = (token_file or Path(DEFAULT_TOKEN_FILE)).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if token_file is None:
            return None
        raise AccessError(f"--token-file {path}: no such file") from None
    if why := token_file_refusal(str(path), mode):
        raise AccessError(why)
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise AccessError(f"{path} is empty; put the token from `vigil api token create` in it")
    return token, str(path)


def token_identity(
    engine: Engine, users: Sequence[DashboardUser], presented: tuple[str, str], needed: Role
) -> Actor:
    """Check a presented token as the API does (live, its user configured, role re-checked).

    Raises:
        AccessError: unknown, revoked or orphaned token, too low a role, or no store.
    """
    token, source = presented
    try:
        who = identify(engine, users, token)
    except UNAVAILABLE as exc:
        raise AccessError(f"the token cannot be checked: the store: {one_line(exc)}") from None
    if who is None:
        raise AccessError(
            f"the API token from {source} is unknown or revoked, or its user is no longer "
            "in dashboard.users; see `vigil api token list`"
        )
    if why := refusal(who, needed):
        raise AccessError(why)
    return token_actor(who, source)


def admin_identity(state_dir: Path) -> Actor:
    """The local admin, when this OS user owns ``state_dir``.

    Raises:
        AccessError: no state directory, or another OS user's.
    """
    try:
        owner: int | None = state_dir.stat().st_uid
    except FileNotFoundError:
        owner = None
    if why := admin_refusal(str(state_dir), owner, os.getuid()):
        raise AccessError(why)
    return local_admin(getpass.getuser(), str(state_dir))


def no_identity() -> AccessError:
    """The error for a write with neither a token nor --as-admin."""
    return AccessError(NO_IDENTITY)
