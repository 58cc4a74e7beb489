"""Keep credentials out of text about URLs: errors, log lines and stored ``last_error`` rows.

Notification URLs carry their secrets inline (``mailtos://user:password@host``,
``json://host/hook?token=…``, ``slack://TokenA/TokenB/TokenC``), and libraries quote the URL
when they fail. Redaction keeps what helps an operator (scheme, host, port, harmless query
keys) and replaces the rest with ``***``: the user-info, the path, secret-looking query
values, and a host that is no host name (apprise puts tokens there).
"""

import re

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://\S*")
_HOST_RE = re.compile(
    r"(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?", re.ASCII
)
_SECRET_KEY_RE = re.compile(
    r"pass|pwd|secret|token|key|auth|sig|cred|session|bearer|cookie|user|login|hook"
    r"|^(api|app|access|client|private)",
    re.IGNORECASE,
)
MASK = "***"


def redact_url(url: str) -> str:
    """Return ``url`` with its credentials masked.

    >>> redact_url("mailtos://ops:hunter2@mail.example.com:465/x?to=ops@x.org&smtp=mx.x.org")
    'mailtos://***@mail.example.com:465/***?to=ops@x.org&smtp=mx.x.org'
    >>> redact_url("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnl")
    'slack://***/***'
    >>> redact_url("json://127.0.0.1:8080/hook?token=abc")
    'json://127.0.0.1:8080/***?token=***'
    """
    scheme, _, rest = url.partition("://")
    userinfo, host, path, query = _split(rest)
    shown = f"{scheme}://{MASK + '@' if userinfo is not None else ''}"
    shown += host if _HOST_RE.fullmatch(host) else MASK
    if path.strip("/"):
        shown += f"/{MASK}"
    if query:
        shown += "?" + "&".join(_redact_pair(pair) for pair in query.split("&"))
    return shown


def redact_urls(text: str) -> str:
    """Return ``text`` with every URL in it redacted (see ``redact_url``).

    >>> redact_urls("Unparseable URL foo://admin:hunter2@mx.example.com, giving up")
    'Unparseable URL foo://***@mx.example.com, giving up'
    """
    return _URL_RE.sub(lambda match: _redact_match(match.group()), text)


def url_secrets(url: str) -> list[str]:
    """Return the parts of ``url`` that may be secret, to scrub from any text.

    A library may quote them without the URL around them (``login failed for hunter2``):
    the password, secret-looking query values, and token-like host or path segments.

    >>> url_secrets("json://bob:hunter2@h.example/hook/a1b2c3d4?token=zz&x=1")
    ['bob:hunter2', 'hunter2', 'a1b2c3d4', 'zz']
    """
    userinfo, host, path, query = _split(url.partition("://")[2])
    userinfo = userinfo or ""
    found = [userinfo, userinfo.partition(":")[2]] if ":" in userinfo else []
    tokens = [*path.split("/"), *([] if _HOST_RE.fullmatch(host) else [host])]
    found += [part for part in tokens if _is_token_like(part)]
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if _SECRET_KEY_RE.search(key):
            found.append(value)
    return [part for part in dict.fromkeys(found) if len(part) >= 2]


def _is_token_like(part: str) -> bool:
    """Long, or mixing letters and digits: an API token rather than a word like ``notify``."""
    has_both = any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
    return len(part) >= 20 or (len(part) >= 6 and has_both)


def _redact_match(url: str) -> str:
    trail = len(url) - len(url.rstrip(".,;:)]}!?'\"`>"))  # punctuation or quotes after it
    return redact_url(url[: len(url) - trail]) + url[len(url) - trail :]


def _split(rest: str) -> tuple[str | None, str, str, str]:
    """Split what follows ``scheme://`` into user-info (None: none), host, path and query.

    The user-info ends at the first ``@`` when what precedes it has a ``:`` or no ``/?#``, so
    a password holding ``?`` or ``#`` is still masked (an ``@`` in a query then over-masks).
    """
    head, at, tail = rest.partition("@")
    userinfo = None
    if at and (":" in head or not re.search(r"[/?#]", head)):
        userinfo, rest = head, tail
    rest = rest.split("#", 1)[0]
    rest, _, query = rest.partition("?")
    host, slash, path = rest.partition("/")
    return userinfo, host, slash + path, query


def _redact_pair(pair: str) -> str:
    key, sep, value = pair.partition("=")
    if sep and value and _SECRET_KEY_RE.search(key):
        return f"{key}={MASK}"
    return pair
