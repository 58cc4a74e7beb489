"""The media a channel can be: each gets its notices shaped for it (tasks.core.notify.shape)."""

from enum import StrEnum


class Medium(StrEnum):
    """How a channel's readers see a notice."""

    SLACK = "slack"  # Slack's mrkdwn attachment: colour, title, fields, <url|links>
    CHAT = "chat"  # Mattermost, Rocket.Chat (Slack-compatible hooks): Markdown
    EMAIL = "email"  # an HTML part and a plain-text part
    SMS = "sms"  # one line of at most 160 characters
    PUSH = "push"  # ntfy, Gotify, Pushover…: a short title and a few lines
    WEBHOOK = "webhook"  # Vigil's versioned JSON document (tasks.core.notify.webhook)
    TEXT = "text"  # any other apprise service: the plain title and body


_BY_SCHEME = {
    "slack": Medium.SLACK,
    **dict.fromkeys(("mmost", "mmosts", "rocket", "rockets"), Medium.CHAT),
    **dict.fromkeys(("mailto", "mailtos"), Medium.EMAIL),
    **dict.fromkeys(
        ("twilio", "vonage", "nexmo", "plivo", "sinch", "clicksend", "bulksms", "msg91"),
        Medium.SMS,
    ),
    **dict.fromkeys(("ntfy", "ntfys", "gotify", "gotifys", "pover", "pbul", "pushed"), Medium.PUSH),
}


def medium_of(url: str) -> Medium:
    """The medium an apprise URL's scheme implies (a channel's ``kind:`` overrides it).

    ``json://`` stays TEXT: it is apprise's JSON service, whose envelope (``version, title,
    message, type``) carries the text shape; only ``kind: webhook`` posts Vigil's versioned
    document (tasks.core.notify.webhook) to the URL's address.

    >>> medium_of("slack://T1/B2/c3"), medium_of("json://h/p"), medium_of("twilio://a:b@1/2")
    (<Medium.SLACK: 'slack'>, <Medium.TEXT: 'text'>, <Medium.SMS: 'sms'>)
    """
    return _BY_SCHEME.get(url.partition("://")[0].lower(), Medium.TEXT)


MESSAGE_VARIABLES = frozenset(
    {"kind", "status", "title", "severity", "alertname", "target", "count", "value", "summary"}
    | {"link", "dashboard_url", "run_url", "lasted", "fixed_by", "alerts", "labels"}
)
"""What a message template (``alerting.templates``) may use; ``alerts`` is a list of dicts
with alertname, target, value, summary, labels, link, lasted and fixed_by of each alert; the
single-alert keys are those of the first alert."""
