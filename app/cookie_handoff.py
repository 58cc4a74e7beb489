"""Hand the session cookie to the browser from the server, so that it can be ``HttpOnly``.

A Streamlit script talks to the browser over a websocket and cannot set a header. So after
a login (or logout) the script parks the cookie here under a random one-time ticket; the
page's JavaScript posts the ticket to ``/_vigil/session/<ticket>``, a route of the same
process (``app/asgi.py``), whose response sets the cookie ``HttpOnly; SameSite=Strict``
(and ``Secure`` under HTTPS). Page scripts never see the cookie's value, only the ticket,
which works once and for a minute.

The tickets live in this process's memory: the dashboard is one process, and its script
runs and routes share it.
"""

import secrets
import threading
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TICKET_LIFETIME_S = 60.0
SESSION_PATH = "/_vigil/session"


@dataclass(frozen=True)
class Cookie:
    """A cookie to set (``max_age_s`` > 0) or to clear (``max_age_s`` == 0)."""

    name: str
    value: str
    max_age_s: int


_tickets: dict[str, tuple[Cookie, float]] = {}  # ticket -> (cookie, monotonic deadline)
_lock = threading.Lock()


def park(cookie: Cookie, *, now: float | None = None) -> str:
    """Keep ``cookie`` for the browser; return the one-time ticket that fetches it."""
    now = time.monotonic() if now is None else now
    ticket = secrets.token_urlsafe(24)
    with _lock:
        for old in [t for t, (_, deadline) in _tickets.items() if deadline <= now]:
            del _tickets[old]
        _tickets[ticket] = (cookie, now + TICKET_LIFETIME_S)
    return ticket


def take(ticket: str, *, now: float | None = None) -> Cookie | None:
    """Return the cookie parked under ``ticket`` once, or None (unknown, used, expired)."""
    now = time.monotonic() if now is None else now
    with _lock:
        found = _tickets.pop(ticket, None)
    if found is None or found[1] <= now:
        return None
    return found[0]


async def _hand_over(request: Request) -> Response:
    cookie = take(request.path_params["ticket"])
    if cookie is None:
        return Response("unknown, used or expired ticket", status_code=404)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        cookie.name,
        cookie.value,
        max_age=cookie.max_age_s,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


ROUTES = [Route(SESSION_PATH + "/{ticket}", _hand_over, methods=["POST"])]
