"""Send one message through an apprise URL, with secrets expanded at the last moment.

``${NAME}`` reads the environment variable NAME, ``${secret:block}`` the Prefect Secret
block ``block``. Neither expanded values nor credentials written in the URL itself reach
logs, errors or the database: errors are scrubbed of them, and of every URL's credentials,
before they are returned.
"""

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import requests

from models.config.channel_url import load_apprise
from models.errors import NotifyError
from models.vocabulary.local_channel import is_local, log_path
from models.vocabulary.media import Medium
from models.vocabulary.redact import redact_url, redact_urls, url_secrets
from tasks.core.notify.chart import inline_images
from tasks.core.resilience.breaker import BreakerParams

apprise = load_apprise()

_REF_RE = re.compile(r"\$\{(secret:)?([A-Za-z0-9_.\-]+)\}")


class PermanentNotifyError(NotifyError):
    """A notification that can never be sent as configured (missing secret, bad URL)."""

    is_transient = False


@dataclass(frozen=True)
class ChannelSpec:
    """A configured channel: its URL, medium, timeout, breaker and rate limit."""

    url: str
    medium: Medium = Medium.TEXT
    timeout_s: float = 10.0
    breaker: BreakerParams = field(default_factory=BreakerParams)
    rate_limit: int | None = None


BODY_FORMATS = {Medium.SLACK: "markdown", Medium.CHAT: "markdown", Medium.EMAIL: "html"}
"""What the shaped body is written in, for apprise (others: plain text)."""


def deliver(spec: ChannelSpec, title: str, body: str, notify_type: str = "info") -> None:
    """Send one shaped notice over ``spec``'s medium within its timeout; raise NotifyError."""
    if is_local(spec.url):
        keep_locally(spec.url, title, body)
        return
    if spec.medium is Medium.WEBHOOK:
        post_document(spec.url, body, spec.timeout_s)
        return
    images: list[tuple[str, bytes]] = []
    if spec.medium is Medium.EMAIL:  # charts travel as data: URIs; mail them as cid: parts
        body, images = inline_images(body)
    fmt = BODY_FORMATS.get(spec.medium, "text" if spec.medium is not Medium.TEXT else None)
    send(
        spec.url,
        title,
        body,
        notify_type=notify_type,
        body_format=fmt,
        timeout_s=spec.timeout_s,
        images=images,
    )


def keep_locally(url: str, title: str, body: str) -> None:
    """Deliver to Vigil's own channel: the inbox (the stored notice is all) or a log file."""
    path = log_path(url)
    if path is None:
        return
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"{stamp} {title}\n{body}\n\n")
    except OSError as exc:
        raise NotifyError(f"cannot append to {path}: {exc}") from None


def with_timeouts(url: str, timeout_s: float) -> str:
    """``url`` with apprise's connect and read timeouts (``cto``, ``rto``) unless it sets them.

    >>> with_timeouts("json://h/p?x=1", 2.5)
    'json://h/p?x=1&cto=2.5&rto=2.5'
    """
    query = url.partition("?")[2]
    given = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    added = [f"{name}={timeout_s:g}" for name in ("cto", "rto") if name not in given]
    if not added:
        return url
    return url + ("&" if query else "?") + "&".join(added)


def post_document(url: str, body: str, timeout_s: float) -> None:
    """POST a webhook document (JSON text) to a json:// or jsons:// URL's http(s) address."""
    real_url, secrets = expand_secrets(url)
    secrets += url_secrets(real_url)
    scheme, _, rest = real_url.partition("://")
    target = ("https" if scheme.lower() == "jsons" else "http") + "://" + rest
    try:
        response = requests.post(
            target,
            data=body.encode(),
            headers={"Content-Type": "application/json", "User-Agent": "Vigil"},
            timeout=(timeout_s, timeout_s),
        )
    except requests.RequestException as exc:
        raise NotifyError(scrub(f"{type(exc).__name__}: {exc}", secrets)) from None
    if not response.ok:
        raise NotifyError(scrub(f"{redact_url(url)} answered HTTP {response.status_code}", secrets))


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


def send(
    url: str,
    title: str,
    body: str,
    read_secret: Callable[[str], str] | None = None,
    *,
    notify_type: str = "info",
    body_format: str | None = None,
    timeout_s: float | None = None,
    images: Sequence[tuple[str, bytes]] = (),
    attach: str | None = None,
) -> None:
    """Deliver one message; raise NotifyError (transient or permanent) with a scrubbed reason.

    ``images`` are (name, PNG) parts an HTML email shows inline where its body says
    ``cid:<name>`` (apprise's ``inline=yes``); ``attach`` is a file path (e.g. a PDF report)
    for media that carry files.
    """
    real_url, secrets = expand_secrets(url, read_secret)
    secrets += url_secrets(real_url)
    if timeout_s is not None:
        real_url = with_timeouts(real_url, timeout_s)
    files = apprise.AppriseAttachment()
    if attach is not None:
        files.add(attach)
    if images:
        real_url += ("&" if "?" in real_url else "?") + "inline=yes"
        from apprise.attachment.memory import AttachMemory

        for name, png in images:
            files.add(AttachMemory(content=png, name=name, mimetype="image/png"))
    try:
        notifier = apprise.Apprise()
        if not notifier.add(real_url):
            shown = scrub(redact_url(url), secrets)
            raise PermanentNotifyError(f"{shown} is not an apprise URL apprise can use")
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            is_sent = notifier.notify(
                title=title,
                body=body,
                notify_type=notify_type,
                body_format=body_format,
                attach=files if files else None,
            )
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
