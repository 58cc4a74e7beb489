"""Check channel URLs with apprise when the config loads, and keep apprise's logs credential-free.

apprise is imported on first use (it loads ~200 plugins); ``load_apprise`` also makes every
line apprise logs go through ``redact_urls``, since apprise quotes the URLs it cannot use.
"""

import logging
import re
import warnings
from functools import cache
from types import ModuleType

from models.vocabulary.local_channel import is_local, log_path
from models.vocabulary.redact import redact_url, redact_urls, url_secrets

_REF_RE = re.compile(r"\$\{(secret:)?[A-Za-z0-9_.\-]+\}")


class _RedactUrls(logging.Filter):
    """Rewrite each apprise log record with the URLs in it redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_urls(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@cache
def load_apprise() -> ModuleType:
    """Import apprise with its plugins loaded and its log lines redacted."""
    import apprise

    logging.getLogger("apprise").addFilter(_RedactUrls())
    # apprise loads its plugins on first use, and its email plugin imports the deprecated
    # ``imghdr``; load them once here, quietly, instead of warning inside a delivery.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        apprise.Apprise.instantiate("json://localhost")
    return apprise


def check_channel_url(url: str) -> str:
    """Return ``url`` if apprise can use it; raise ValueError (showing no credential) if not.

    A URL with ``${ENV}`` or ``${secret:block}`` references is complete only at delivery, so
    here only its scheme is checked.
    """
    if is_local(url):
        log_path(url)  # raises ValueError naming the two forms
        return url
    apprise = load_apprise()
    scheme = url.partition("://")[0]
    if _REF_RE.search(url):
        known = "://" not in url or "${" in scheme or scheme.lower() in _schemes()
        if not known:
            raise ValueError(f"{redact_url(url)}: apprise has no service {scheme!r}")
        return url
    logger = logging.getLogger("apprise")
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        logger.propagate = False  # `vigil validate` shows the reason below, not a log line
        try:
            is_usable, crash = apprise.Apprise().add(url), None
        except Exception as exc:  # some plugins raise on odd input instead of saying no
            is_usable, crash = False, f"apprise failed on it: {type(exc).__name__}"
        finally:
            logger.propagate = True
        captured = log.getvalue()
    if is_usable:
        return url
    reason = crash or next(iter(captured.strip().splitlines()[-1:]), "no reason given")
    for secret in url_secrets(url):
        reason = reason.replace(secret, "***")
    raise ValueError(
        f"{redact_url(url)} is not a URL apprise can use ({reason}); "
        "see https://github.com/caronc/apprise/wiki for each service's form"
    )


@cache
def _schemes() -> frozenset[str]:
    from apprise.manager_plugins import NotificationManager

    return frozenset(s.lower() for s in NotificationManager().schemas())
