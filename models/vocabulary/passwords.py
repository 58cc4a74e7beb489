"""Password hashes for dashboard logins: scrypt from the standard library, never plain text.

A hash reads ``scrypt$<n>$<r>$<p>$<salt hex>$<digest hex>``, so its cost travels with it.
"""

import hashlib
import hmac
import re
import secrets

_N, _R, _P = 2**14, 8, 1
_DIGEST_BYTES = 32
HASH_RE = re.compile(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]{32,})\$([0-9a-f]{64})")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Return the scrypt hash of ``password`` with a fresh random salt (or ``salt``).

    >>> hash_password("s3cret", salt=bytes(16)).startswith("scrypt$16384$8$1$0000")
    True
    """
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, hashed: str) -> bool:
    """Return True when ``password`` matches ``hashed`` (constant-time comparison).

    >>> stored = hash_password("s3cret", salt=bytes(16))
    >>> verify_password("s3cret", stored), verify_password("guess", stored)
    (True, False)
    """
    match = HASH_RE.fullmatch(hashed)
    if match is None or not password:
        return False
    n, r, p = (int(part) for part in match.group(1, 2, 3))
    digest = _scrypt(password, bytes.fromhex(match[4]), n, r, p)
    return hmac.compare_digest(digest, bytes.fromhex(match[5]))


def is_password_hash(text: str) -> bool:
    """Return True when ``text`` has the shape of a hash from :func:`hash_password`.

    >>> is_password_hash("hunter2")
    False
    """
    return HASH_RE.fullmatch(text) is not None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=_DIGEST_BYTES
    )
