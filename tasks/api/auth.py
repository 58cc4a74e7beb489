"""Bearer tokens with roles (viewer < operator < admin), as one reusable FastAPI dependency.

Tokens are made with ``vigil api token create NAME --user USER --role ROLE``: the clear token
is printed once; the store keeps its SHA-256 digest (``models.api_token``). Each token acts
for a user of ``dashboard.users`` in vigil.yaml, with at most that user's role, re-checked on
every request against the user list the server loaded (a user removed from the config can no
longer use their tokens). Writes are recorded as ``user/token`` (``Identity.actor``).
A client that can only send HTTP Basic auth (promtool 2.42's ``query`` commands, given
``http://vigil:TOKEN@host/prometheus``) may send the token as the password; the user name is
ignored. A store that cannot be read answers 503: the token cannot be checked.

Usage, for any router of the app::

    @router.post("/x")
    def x(who: Identity = Depends(require(Role.OPERATOR))) -> ...
"""

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from models.config.dashboard import DashboardUser, Role
from tasks.api.errors import ApiError
from tasks.api.token_store import identify
from tasks.api.unavailable import UNAVAILABLE, one_line
from tasks.core.api.tokens import Identity, refusal

_bearer = HTTPBearer(auto_error=False, description="An API token: `vigil api token create`.")


@dataclass(frozen=True)
class TokenBook:
    """Where the app looks tokens up: the store, and the dashboard's user list."""

    engine: Engine
    users: Sequence[DashboardUser]

    def identify(self, presented: str) -> Identity | None:
        """Return who ``presented`` acts as, or None."""
        return identify(self.engine, self.users, presented)


def require(role: Role) -> Callable[[Request], Awaitable[Identity]]:
    """Return a dependency that answers 401 without a valid token, 403 below ``role``.

    The dependency returns the caller's ``Identity``. It reads the ``TokenBook`` from
    ``request.app.state.token_book``, so any router mounted on the app can use it.
    """

    async def authenticated(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Identity:
        presented = credentials.credentials if credentials else _basic_password(request)
        if not presented:
            raise _unauthorized("send a bearer token: Authorization: Bearer <token>")
        book: TokenBook = request.app.state.token_book
        try:
            who = await run_in_threadpool(book.identify, presented)
        except UNAVAILABLE as exc:
            reason = f"the store is unavailable; the token cannot be checked: {one_line(exc)}"
            raise ApiError(503, reason, "Authorization") from exc
        if who is None:
            raise _unauthorized("unknown or revoked token, or its user left dashboard.users")
        why = refusal(who, role)
        if why is not None:
            raise ApiError(403, why, "Authorization")
        request.state.identity = who  # for routers guarded from outside (the Alertmanager API)
        return who

    return authenticated


def _basic_password(request: Request) -> str | None:
    """The password of an ``Authorization: Basic`` header (the token), or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value, validate=True).decode().partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        return None


def _unauthorized(reason: str) -> ApiError:
    return ApiError(401, reason, "Authorization", {"WWW-Authenticate": "Bearer"})
