"""Vigil's own channels, which need no account: ``vigil://inbox`` and ``vigil://log/PATH``.

``vigil://inbox`` keeps each notice in the store only: the dashboard's Alerts page lists it
under Deliveries. ``vigil://log/notifications.log`` also appends it to a file (a relative
path is taken from the directory Vigil runs in; ``vigil://log//var/log/vigil.log`` is absolute).
"""

from pathlib import Path

SCHEME = "vigil"


def is_local(url: str) -> bool:
    """True for a ``vigil://`` URL.

    >>> is_local("vigil://inbox"), is_local("slack://a/b/c")
    (True, False)
    """
    return url.partition("://")[0].lower() == SCHEME and "://" in url


def log_path(url: str) -> Path | None:
    """The file a ``vigil://log/PATH`` URL appends to; None for the inbox.

    Raises ValueError for any other ``vigil://`` URL.

    >>> log_path("vigil://log/notifications.log"), log_path("vigil://inbox")
    (PosixPath('notifications.log'), None)
    >>> log_path("vigil://log//var/log/vigil.log")
    PosixPath('/var/log/vigil.log')
    """
    rest = url.partition("://")[2]
    if rest.rstrip("/") == "inbox":
        return None
    kind, _, path = rest.partition("/")
    if kind != "log" or not path:
        raise ValueError(
            f"{url!r}: Vigil's own channels are vigil://inbox and vigil://log/PATH "
            "(e.g. vigil://log/notifications.log)"
        )
    return Path(path)
