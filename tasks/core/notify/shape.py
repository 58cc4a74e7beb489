"""One notice shaped for its medium: chat markdown, email HTML, one SMS line, push, webhook JSON.

Every medium has a default shape; ``alerting.templates`` in vigil.yaml overrides the title
and/or body of a medium with a Jinja template over ``MESSAGE_VARIABLES`` (models.vocabulary.media).
"""

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from models.vocabulary.media import Medium
from models.vocabulary.severity import severity_rank
from models.vocabulary.templates import render_context
from tasks.core.alerting.messages import AlertView, Links, compose, iso, timeline_url, title_of
from tasks.core.alerting.messages import where as where_of
from tasks.core.notify.chart import data_uri
from tasks.core.notify.sms import sms_line
from tasks.core.notify.webhook import document

KEY_LABELS = ("severity", "target", "instance", "job", "check")


@dataclass(frozen=True)
class Notice:
    """What one notification is about."""

    kind: str  # firing, repeat, resolved, escalation, ack_expired
    firing: Sequence[AlertView]
    resolved: Sequence[AlertView]
    links: Links
    charts: Mapping[str, bytes] = field(default_factory=dict)  # fingerprint -> PNG (email)


@dataclass(frozen=True)
class Shaped:
    """A notice ready for one channel; ``notify_type`` is apprise's (it colours chat)."""

    title: str
    body: str
    notify_type: str


@dataclass(frozen=True)
class Override:
    """A user's title and/or body template for one medium (None: the default shape)."""

    title: str | None = None
    body: str | None = None


def shape(medium: Medium, notice: Notice, override: Override | None = None) -> Shaped:
    """Shape ``notice`` for ``medium``, with the user's templates where given.

    >>> view = AlertView("f1", {"alertname": "Cpu", "target": "web-1", "severity": "critical"},
    ...                  0.97, 0.0)
    >>> shape(Medium.SMS, Notice("firing", [view], [], Links("http://d"))).body
    'CRIT Cpu web-1 http://d/alerts?fingerprint=f1'
    """
    title, body = _DEFAULTS[medium](notice)
    if override is not None and (override.title or override.body):
        context = template_context(notice, title)
        title = render_context(override.title, context) if override.title else title
        body = render_context(override.body, context) if override.body else body
    if medium is Medium.SMS:
        title, body = "", sms_line(body)
    return Shaped(title, body, notify_type(notice))


def notify_type(notice: Notice) -> str:
    """apprise's notify type: success when all resolved, else by the highest severity."""
    if not notice.firing:
        return "success"
    top = max((_severity(a) for a in notice.firing), key=severity_rank)
    return {"critical": "failure", "warning": "warning"}.get(top, "info")


def lasted(alert: AlertView) -> str | None:
    """How long a resolved alert fired, like ``1h 5m`` or ``42s``.

    >>> lasted(AlertView("f", {}, None, 100.0, 100.0 + 3900))
    '1h 5m'
    """
    if alert.fired_at is None or alert.resolved_at is None:
        return None
    seconds = max(0, round(alert.resolved_at - alert.fired_at))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m")] if hours else [(minutes, "m"), (secs, "s")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def template_context(notice: Notice, title: str) -> dict[str, object]:
    """The variables a message template sees (``MESSAGE_VARIABLES``)."""
    alerts = [_alert_context(a, notice.links, a in notice.resolved) for a in _all(notice)]
    first = alerts[0]
    return {
        **first,
        "kind": notice.kind,
        "status": "firing" if notice.firing else "resolved",
        "title": title,
        "severity": _top_severity(notice),
        "alertname": ", ".join(sorted({str(a["alertname"]) for a in alerts})),
        "count": len(alerts),
        "link": first["link"] if len(alerts) == 1 else _alerts_page(notice.links),
        "dashboard_url": notice.links.dashboard_url,
        "run_url": notice.links.prefect_run_url,
        "alerts": alerts,
    }


def _alert_context(alert: AlertView, links: Links, is_resolved: bool) -> dict[str, object]:
    return {
        "alertname": alert.labels.get("alertname", "?"),
        "target": where_of(alert.labels),
        "value": alert.value,
        "summary": alert.annotations.get("summary", ""),
        "labels": dict(alert.labels),
        "link": timeline_url(links, alert.fingerprint),
        "lasted": lasted(alert) if is_resolved else None,
        "fixed_by": alert.fixed_by if is_resolved else None,
    }


# -- default shapes -------------------------------------------------------------------------


def _chat(notice: Notice, link: str = "[{text}]({url})", bold: str = "**{}**") -> tuple[str, str]:
    """Markdown (Mattermost's post, Slack's attachment text): fields, links, resolve facts."""
    lines = []
    for alert in _all(notice):
        is_resolved = alert in notice.resolved
        name = bold.format(alert.labels.get("alertname", "?"))
        head = f"{'✅' if is_resolved else '🔥'} {name} on {where_of(alert.labels)}"
        summary = alert.annotations.get("summary")
        lines.append(head + (f": {summary}" if summary else ""))
        fields = [
            f"{bold.format(k + ':')} {alert.labels[k]}" for k in KEY_LABELS if k in alert.labels
        ]
        if alert.value is not None:
            fields.append(f"{bold.format('value:')} {alert.value:g}")
        lines.append(" | ".join(fields))
        if is_resolved:
            lines.append(_resolve_fact(alert))
        lines.append(
            link.format(text="Timeline", url=timeline_url(notice.links, alert.fingerprint))
        )
    if notice.links.prefect_run_url:
        lines.append(
            link.format(text="Prefect run (approve here)", url=notice.links.prefect_run_url)
        )
    return title_of(notice.kind, notice.firing, notice.resolved), "\n".join(filter(None, lines))


def _slack(notice: Notice) -> tuple[str, str]:
    """Slack's mrkdwn: ``*bold*`` and ``<url|text>`` links."""
    return _chat(notice, link="<{url}|{text}>", bold="*{}*")


def _email(notice: Notice) -> tuple[str, str]:
    """HTML (apprise adds the plain-text part): a table per alert, its chart, the same links."""
    esc = html.escape
    parts = [f"<h2>{esc(title_of(notice.kind, notice.firing, notice.resolved))}</h2>"]
    for alert in _all(notice):
        rows = [("alert", alert.labels.get("alertname", "?")), ("where", where_of(alert.labels))]
        rows += [(k, alert.labels[k]) for k in KEY_LABELS if alert.labels.get(k)]
        rows += [("value", f"{alert.value:g}")] if alert.value is not None else []
        rows += [("since", iso(alert.fired_at))]
        if "summary" in alert.annotations:
            rows.append(("summary", alert.annotations["summary"]))
        if alert in notice.resolved:
            rows.append(("resolved", _resolve_fact(alert)))
        cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows)
        link = esc(timeline_url(notice.links, alert.fingerprint))
        parts.append(f"<table>{cells}</table>")
        if alert.fingerprint in notice.charts:
            alt = esc(f"the last hour of {alert.labels.get('alertname', '?')}'s series")
            src = data_uri(notice.charts[alert.fingerprint])
            parts.append(f'<p><img src="{src}" alt="{alt}"></p>')
        parts.append(f'<p><a href="{link}">Timeline</a></p>')
    run = notice.links.prefect_run_url
    if run:
        parts.append(f'<p><a href="{esc(run)}">Prefect run (approve here)</a></p>')
    return title_of(notice.kind, notice.firing, notice.resolved), "\n".join(parts)


def _sms(notice: Notice) -> tuple[str, str]:
    """``CRIT Cpu web-1 <link>`` or ``OK Cpu web-1 after 5m <link>``; clipped by sms_line."""
    alerts = _all(notice)
    head = "OK" if not notice.firing else _top_severity(notice)[:4].upper()
    if len(alerts) == 1:
        alert = alerts[0]
        after = f" after {lasted(alert)}" if not notice.firing and lasted(alert) else ""
        text = f"{alert.labels.get('alertname', '?')} {where_of(alert.labels)}{after}"
        link = timeline_url(notice.links, alert.fingerprint)
    else:
        names = sorted({a.labels.get("alertname", "?") for a in alerts})
        text = f"{len(alerts)} alerts: {','.join(names)}"
        link = _alerts_page(notice.links)
    return "", f"{head} {text} {link}"


def _push(notice: Notice) -> tuple[str, str]:
    """A short title and one line per alert, with its link (ntfy, Gotify, Pushover…)."""
    lines = []
    for alert in _all(notice):
        summary = alert.annotations.get("summary") or (
            f"value {alert.value:g}" if alert.value is not None else ""
        )
        fact = f" ({_resolve_fact(alert)})" if alert in notice.resolved else ""
        lines.append(
            f"{alert.labels.get('alertname', '?')} on {where_of(alert.labels)}: "
            f"{summary}{fact} {timeline_url(notice.links, alert.fingerprint)}"
        )
    return title_of(notice.kind, notice.firing, notice.resolved), "\n".join(lines)


def _webhook(notice: Notice) -> tuple[str, str]:
    title = title_of(notice.kind, notice.firing, notice.resolved)
    doc = document(notice.kind, title, notice.firing, notice.resolved, notice.links)
    return title, json.dumps(doc, sort_keys=True)


def _text(notice: Notice) -> tuple[str, str]:
    return compose(notice.kind, notice.firing, notice.resolved, notice.links)


_DEFAULTS = {
    Medium.SLACK: _slack,
    Medium.CHAT: _chat,
    Medium.EMAIL: _email,
    Medium.SMS: _sms,
    Medium.PUSH: _push,
    Medium.WEBHOOK: _webhook,
    Medium.TEXT: _text,
}


def _all(notice: Notice) -> list[AlertView]:
    return [*notice.firing, *notice.resolved]


def _severity(alert: AlertView) -> str:
    return alert.labels.get("severity", "warning")


def _top_severity(notice: Notice) -> str:
    alerts = notice.firing or notice.resolved
    return max((_severity(a) for a in alerts), key=severity_rank)


def _resolve_fact(alert: AlertView) -> str:
    took = lasted(alert)
    fact = f"resolved after {took}" if took else "resolved"
    return fact + (
        f", fixed by {alert.fixed_by}"
        if alert.fixed_by
        else ", no recovery run or acknowledgement recorded"
    )


def _alerts_page(links: Links) -> str:
    return f"{links.dashboard_url.rstrip('/')}/alerts"
