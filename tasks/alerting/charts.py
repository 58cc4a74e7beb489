"""The last hour of an alert's breaching series, read from the store and drawn for its email."""

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select

from models.metrics import Sample, Series
from models.vocabulary.labels import parse_canonical
from tasks.core.alerting.messages import AlertView
from tasks.core.alerting.rules import RuleSpec
from tasks.core.notify.chart import SeriesChart, render_png

HOUR_S = 3600.0
SERIES = Series.__table__  # type: ignore[attr-defined]
SAMPLE = Sample.__table__  # type: ignore[attr-defined]
log = logging.getLogger(__name__)


def breaching_series(
    conn: Connection, rule: RuleSpec, labels: Mapping[str, str]
) -> tuple[int, str] | None:
    """The id and name of the series an alert with ``labels`` is about, if the rule reads one.

    An alert's labels are its series' labels plus the rule's own, so the series is the one
    of the rule's metric whose labels all appear in the alert's (the most specific, if several).
    """
    name = rule.selector.name if rule.selector is not None else None
    if name is None:
        return None
    found = conn.execute(select(SERIES.c.id, SERIES.c.labels).where(SERIES.c.name == name))
    fits = []
    for series_id, text in found:
        own = parse_canonical(text)
        if all(labels.get(k) == v for k, v in own.items()):
            fits.append((len(own), series_id))
    return (max(fits)[1], name) if fits else None


def last_hour(conn: Connection, series_id: int, now: float) -> list[tuple[float, float]]:
    """The series' raw points of the hour before ``now`` (epoch seconds, value)."""
    s = SAMPLE.c
    query = (
        select(s.ts_ms, s.value)
        .where(
            s.series_id == series_id, s.ts_ms.between(int((now - HOUR_S) * 1000), int(now * 1000))
        )
        .order_by(s.ts_ms)
    )
    return [(ts_ms / 1000, value) for ts_ms, value in conn.execute(query)]


def alert_charts(
    conn: Connection, rules: Sequence[RuleSpec], alerts: Sequence[AlertView], now: float
) -> dict[str, bytes]:
    """PNG charts of the alerts' series over the last hour, by fingerprint (where there is one).

    A chart is a courtesy: one that cannot be drawn is logged and left out, never a lost email.
    """
    by_name = {r.name: r for r in rules}
    out = {}
    for alert in alerts:
        rule = by_name.get(alert.labels.get("alertname", ""))
        try:
            png = _chart(conn, rule, alert, now) if rule is not None else None
        except Exception:  # a chart must never cost the notice it decorates
            log.exception("no chart for alert %s", alert.fingerprint)
            continue
        if png is not None:
            out[alert.fingerprint] = png
    return out


def _chart(conn: Connection, rule: RuleSpec, alert: AlertView, now: float) -> bytes | None:
    found = breaching_series(conn, rule, alert.labels)
    if found is None:
        return None
    points = last_hour(conn, found[0], now)
    if len(points) < 2:
        return None
    tier = next((t for t in rule.tiers if t.severity == alert.labels.get("severity")), None)
    threshold = tier.value if tier else rule.value if rule.kind == "threshold" else None
    where = alert.labels.get("target") or alert.labels.get("instance") or ""
    title = f"{found[1]} {where} · last hour".replace("  ", " ")
    return render_png(SeriesChart(title, points, threshold))
