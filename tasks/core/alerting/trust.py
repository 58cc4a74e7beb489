"""Trust gates of anomaly and forecast alerts: enough history, a second signal, dismissals.

A score from a model that has seen one hour of a series is a guess; a false positive an
operator dismissed should not page again at once. These plain functions decide; the
adapter (``tasks.alerting.trust``) fetches what they need.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tasks.core.alerting.conditions import COMPARE

ANALYTICS_LABELS = frozenset({"metric", "detector", "threshold", "alertname", "severity"})


@dataclass(frozen=True)
class Corroboration:
    """A second signal: the watched series' newest value ``op value``, or ``rule`` firing."""

    op: str | None = None
    value: float | None = None
    rule: str | None = None

    @classmethod
    def of(cls, config: Any) -> "Corroboration | None":
        """Build from a config ``Corroboration`` (or None)."""
        return None if config is None else cls(config.op, config.value, config.rule)


def watched_series(
    alert_labels: Mapping[str, str], rule_labels: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """The series an anomaly or forecast alert is about: ``metric`` and the series labels.

    >>> watched_series({"metric": "cpu", "host": "a", "detector": "robust_z",
    ...                 "alertname": "CpuOdd", "severity": "warning", "team": "x"}, {"team": "x"})
    ('cpu', {'host': 'a'})
    """
    drop = ANALYTICS_LABELS | rule_labels.keys()
    labels = {k: v for k, v in alert_labels.items() if k not in drop}
    return alert_labels.get("metric", ""), labels


def has_history(first_sample_at: float | None, *, now: float, min_history_s: float) -> bool:
    """True when the watched series' first stored sample is at least ``min_history_s`` old.

    >>> has_history(0.0, now=86_400.0, min_history_s=86_400.0)
    True
    >>> has_history(None, now=1.0, min_history_s=1.0)
    False
    """
    if min_history_s <= 0:
        return True
    return first_sample_at is not None and now - first_sample_at >= min_history_s


def agrees(
    corroboration: Corroboration, *, newest_value: float | None, is_rule_firing: bool
) -> bool:
    """True when the second signal agrees (threshold on the newest value, or rule firing).

    >>> agrees(Corroboration(">", 80.0), newest_value=85.0, is_rule_firing=False)
    True
    """
    if corroboration.rule is not None:
        return is_rule_firing
    if newest_value is None or corroboration.op is None or corroboration.value is None:
        return False
    return COMPARE[corroboration.op](newest_value, corroboration.value)


def is_about(other: Mapping[str, str], name: str, series_labels: Mapping[str, str]) -> bool:
    """True when another alert's labels speak of the series ``name{series_labels}``.

    >>> is_about({"host": "a", "metric": "cpu", "alertname": "F"}, "cpu", {"host": "a"})
    True
    """
    if other.get("metric", name) != name:
        return False
    return all(other.get(k) == v for k, v in series_labels.items())


def dismissal_key(rule: str, alert_labels: Mapping[str, str]) -> tuple[str, tuple]:  # type: ignore[type-arg]
    """What a dismissal damps: the rule on the series, whatever the tier (severity).

    >>> dismissal_key("R", {"host": "a", "severity": "critical"})
    ('R', (('host', 'a'),))
    """
    return rule, tuple(sorted((k, v) for k, v in alert_labels.items() if k != "severity"))
