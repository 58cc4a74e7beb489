"""Per-channel rate limits: at most N notices an hour, then one summary, then silence."""

import json
from enum import StrEnum

from models.vocabulary.media import Medium
from tasks.core.notify.sms import sms_line

WINDOW_S = 3600.0
SUMMARY_KIND = "summary"


class Allowance(StrEnum):
    """What to do with the next notice of a rate-limited channel."""

    SEND = "send"  # within the limit
    SUMMARISE = "summarise"  # the first one over: send a summary instead
    SUPPRESS = "suppress"  # over, and the summary went out: keep it back (recorded)


def allowance(limit: int | None, sent_in_window: int, summarised_in_window: bool) -> Allowance:
    """Decide for one notice, given what the channel sent in the last ``WINDOW_S``.

    >>> [allowance(2, n, s) for n, s in ((1, False), (2, False), (2, True))]
    [<Allowance.SEND: 'send'>, <Allowance.SUMMARISE: 'summarise'>, <Allowance.SUPPRESS: 'suppress'>]
    """
    if limit is None or sent_in_window < limit:
        return Allowance.SEND
    return Allowance.SUPPRESS if summarised_in_window else Allowance.SUMMARISE


def summary_for(medium: Medium, channel: str, limit: int, dashboard_url: str) -> tuple[str, str]:
    """Title and body of the summary a limited channel gets, shaped for its medium.

    >>> summary_for(Medium.SMS, "pager", 5, "http://d")[1]
    'Vigil: pager reached its limit of 5 notices an hour; the rest of this hour is on http://d/alerts'
    """
    alerts = f"{dashboard_url.rstrip('/')}/alerts"
    title = f"[RATE LIMITED] {channel}"
    body = (
        f"Vigil: {channel} reached its limit of {limit} notices an hour; "
        f"the rest of this hour is on {alerts}"
    )
    if medium is Medium.SMS:
        return "", sms_line(body)
    if medium is Medium.WEBHOOK:
        doc = {
            "version": "1",
            "schema": "vigil.webhook",
            "kind": SUMMARY_KIND,
            "status": "firing",
            "title": title,
            "message": body,
            "externalURL": dashboard_url,
            "alerts": [],
        }
        return title, json.dumps(doc, sort_keys=True)
    return title, body
