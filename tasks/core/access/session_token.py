"""Signed session tokens for the dashboard's cookie: who, which session, until when.

A token is ``<user>.<session id>.<expiry unix seconds>.<hmac-sha256>``; the key never
leaves the server, so a token cannot be forged or extended by its holder.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class SessionClaim:
    """What a valid token says."""

    user: str
    session_id: str
    expires_at: datetime


def sign(claim: SessionClaim, key: bytes) -> str:
    """Return the token for ``claim``.

    >>> c = SessionClaim("ann", "s1", datetime(2030, 1, 1, tzinfo=UTC))
    >>> read(sign(c, b"k"), b"k", now=datetime(2029, 1, 1, tzinfo=UTC)) == c
    True
    """
    name = base64.urlsafe_b64encode(claim.user.encode()).decode().rstrip("=")
    body = f"{name}.{claim.session_id}.{int(claim.expires_at.timestamp())}"
    return f"{body}.{_mac(body, key)}"


def read(token: str, key: bytes, *, now: datetime) -> SessionClaim | None:
    """Return the claim of ``token`` when its signature holds and it has not expired.

    >>> c = SessionClaim("ann", "s1", datetime(2030, 1, 1, tzinfo=UTC))
    >>> forged = "Ym9i" + sign(c, b"k")[4:]  # "bob" in place of "ann"
    >>> read(forged, b"k", now=datetime(2029, 1, 1, tzinfo=UTC))
    >>> read(sign(c, b"other"), b"k", now=datetime(2029, 1, 1, tzinfo=UTC))
    """
    parts = token.split(".")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    body, mac = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(mac, _mac(body, key)):
        return None
    expires_at = datetime.fromtimestamp(int(parts[2]), UTC)
    if expires_at <= now:
        return None
    padded = parts[0] + "=" * (-len(parts[0]) % 4)
    return SessionClaim(base64.urlsafe_b64decode(padded).decode(), parts[1], expires_at)


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
