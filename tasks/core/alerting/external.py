"""Alerts posted by another system (Prometheus, through the Alertmanager v2 API).

Each posted alert becomes an observation of the rule ``external/<alertname>``, with the
sender's labels and annotations: breaching while its ``endsAt`` is absent or ahead, clear
once it has passed. The engine resolves one that is not re-sent within the resolve
timeout (``alerting.resolve_timeout``), as Alertmanager does.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.vocabulary.labels import LABEL_NAME_RE
from tasks.core.alerting.alertmanager_shapes import read_time
from tasks.core.alerting.rules import Observation

EXTERNAL_PREFIX = "external/"  # rule names in vigil.yaml cannot hold "/": no clash


@dataclass(frozen=True)
class PostedAlert:
    """One alert as a sender posted it (times in epoch seconds)."""

    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: float | None = None
    ends_at: float | None = None
    generator_url: str = ""


def external_rule(labels: Mapping[str, str]) -> str:
    """The Vigil rule name of an external alert.

    >>> external_rule({"alertname": "HighLatency", "job": "api"})
    'external/HighLatency'
    """
    return EXTERNAL_PREFIX + labels["alertname"]


def is_external(rule: str) -> bool:
    """True for the rule name of an alert that came through the Alertmanager API."""
    return rule.startswith(EXTERNAL_PREFIX)


def read_posted(payload: Any) -> tuple[list[PostedAlert], list[str]]:
    """Read an Alertmanager ``postableAlerts`` body: the good alerts, and each bad one's reason.

    >>> good, bad = read_posted([{"labels": {"alertname": "A"}}, {"labels": {}}])
    >>> len(good), bad
    (1, ['alerts[1].labels: is empty; an alert needs labels, alertname among them'])
    """
    if not isinstance(payload, list):
        return [], ["body: is not a list of alerts"]
    good, problems = [], []
    for index, item in enumerate(payload):
        try:
            good.append(_posted(item))
        except ValueError as exc:
            problems.append(f"alerts[{index}].{exc}")
    return good, problems


def observations(alerts: list[PostedAlert], now: float) -> list[Observation]:
    """The engine's observations of ``alerts`` received at ``now``."""
    return [
        Observation(
            rule=external_rule(a.labels),
            labels=a.labels,
            is_breaching=a.ends_at is None or a.ends_at > now,
            value=None,
            at=now,
            annotations=a.annotations,
        )
        for a in alerts
    ]


def _posted(item: Any) -> PostedAlert:
    if not isinstance(item, dict):
        raise ValueError("alert: is not an object")
    labels = _strings(item.get("labels"), "labels")
    if not labels:
        raise ValueError("labels: is empty; an alert needs labels, alertname among them")
    if not labels.get("alertname"):
        raise ValueError("labels.alertname: is missing; Vigil names the alert's rule after it")
    for name in labels:
        if not LABEL_NAME_RE.fullmatch(name):
            raise ValueError(f"labels.{name}: is not a valid label name")
    starts, ends = _time(item, "startsAt"), _time(item, "endsAt")
    if starts is not None and ends is not None and ends < starts:
        raise ValueError("endsAt: is before startsAt")
    url = item.get("generatorURL") or ""
    if not isinstance(url, str):
        raise ValueError("generatorURL: is not a string")
    return PostedAlert(labels, _strings(item.get("annotations"), "annotations"), starts, ends, url)


def _strings(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{name}: is not an object of strings")
    for key, text in value.items():
        if not isinstance(text, str):
            raise ValueError(f"{name}.{key}: is not a string")
    return dict(value)


def _time(item: dict, name: str) -> float | None:  # type: ignore[type-arg]
    """``item[name]`` as epoch seconds; None when absent or Go's zero time ("not set")."""
    text = item.get(name)
    if text in (None, "") or str(text).startswith("0001-01-01"):
        return None
    return read_time(text, name)
