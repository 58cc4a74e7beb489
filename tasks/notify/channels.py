"""Send one message through an apprise URL, with secrets expanded at the last moment.

``${NAME}`` reads the environment variable NAME, ``${secret:block}`` the Prefect Secret
block ``block``. Neither expanded values nor credentials written in the URL itself reach
logs, errors or the database: errors are scrubbed of them, and of every URL's credentials,
before they are returned.
"""

import os
import re
from collections.abc import Callable

from models.config.channel_url import load_apprise
from models.errors import NotifyError
from models.vocabulary.redact import redact_url, redact_urls, url_secrets

apprise = load_apprise()

_REF_RE = re.compile(r"\$\{(secret:)?([A-Za-z0-9_.\-]+)\}")


class PermanentNotifyError(NotifyError):
    """A notification that can never be sent as configured (missing secret, bad URL)."""

    is_transient = False


def expand_secrets(url: str, read_secret: Callable[[str], str] | None = None) -> tuple[str, list]:
    """Return ``url`` with ``${ENV}`` / ``${secret:block}`` filled in, and the secret values.

    >>> os.environ["VIGIL_DOCTEST_TOKEN"] = "s3cret"
    >>> expand_secrets("json://h/${VIGIL_DOCTEST_TOKEN}")
    ('json://h/s3cret', ['s3cret'])
    """
    secrets: list[str] = []

    def fill(match: re.Match[str]) -> str:
        is_block, name = match.group(1), match.group(2)
        value = (read_secret or _prefect_secret)(name) if is_block else os.environ.get(name)
        if value is None:
            raise PermanentNotifyError(
                f"environment variable {name} is not set; export it where Vigil runs"
            )
        secrets.append(value)
        return value

    return _REF_RE.sub(fill, url), secrets


def _prefect_secret(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name).get())  # type: ignore[union-attr]
    except ValueError as exc:
        raise PermanentNotifyError(f"Prefect Secret block {name!r} cannot be read: {exc}") from None


def send(url: str, title: str, body: str, read_secret: Callable[[str], str] | None = None) -> None:
    """Deliver one message; raise NotifyError (transient or permanent) with a scrubbed reason."""
    real_url, secrets = expand_secrets(url, read_secret)
    secrets += url_secrets(real_url)
    try:
        notifier = apprise.Apprise()
        if not notifier.add(real_url):
            shown = scrub(redact_url(url), secrets)
            raise PermanentNotifyError(f"{shown} is not an apprise URL apprise can use")
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            is_sent = notifier.notify(title=title, body=body)
            captured = log.getvalue()  # type: ignore[attr-defined]
    except NotifyError:
        raise
    except Exception as exc:  # a plugin's own error may quote the URL: scrub it, keep retrying
        raise NotifyError(scrub(f"{type(exc).__name__}: {exc}", secrets)) from None
    if not is_sent:
        reason = captured.strip().splitlines()[-1:] or ["apprise reported a failure"]
        raise NotifyError(scrub(reason[0], secrets))


def scrub(text: str, secrets: list[str]) -> str:
    """Replace every secret value in ``text`` with ``***`` and redact the URLs in it."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return redact_urls(text)
