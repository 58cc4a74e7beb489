"""Vigil's alerts and silences in the Alertmanager v2 API's shapes, and back.

Times are RFC 3339 in UTC with milliseconds, as Alertmanager writes them; matchers are
``{"name", "value", "isRegex", "isEqual"}`` objects, Vigil's are selector text.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from models.errors import OperatorInputError
from models.vocabulary.selectors import MatchOp, Selector, parse_selector
from tasks.core.alerting.grouping import group_labels
from tasks.core.alerting.routing import RouteSpec, matching_routes

_OPS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


def rfc3339(ts: float) -> str:
    """Epoch seconds as Alertmanager writes a time.

    >>> rfc3339(0.25)
    '1970-01-01T00:00:00.250Z'
    """
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_time(value: Any, name: str) -> float:
    """An RFC 3339 time from a request body, as epoch seconds; OperatorInputError if not."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise OperatorInputError(f"{name}: {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise OperatorInputError(f"{name}: {value!r} has no time zone; add Z")
    return moment.timestamp()


def matchers_text(matchers: Any) -> str:
    """Alertmanager matchers as Vigil selector text; OperatorInputError naming the bad one.

    >>> matchers_text([{"name": "job", "value": "a.*", "isRegex": True}])
    '{job=~"a.*"}'
    """
    if not isinstance(matchers, list) or not matchers:
        raise OperatorInputError("matchers: give at least one label matcher")
    parts = []
    for index, m in enumerate(matchers):
        where = f"matchers[{index}]"
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not m["name"]:
            raise OperatorInputError(f"{where}.name: is missing")
        if not isinstance(m.get("value"), str):
            raise OperatorInputError(f"{where}.value: is missing or not a string")
        is_regex, is_equal = m.get("isRegex", False), m.get("isEqual", True)
        if not isinstance(is_regex, bool) or not isinstance(is_equal, bool):
            raise OperatorInputError(f"{where}: isRegex and isEqual must be true or false")
        op = _OPS[(is_regex, is_equal)]
        parts.append(f"{m['name']}{op}{json.dumps(m['value'], ensure_ascii=False)}")
    return "{" + ", ".join(parts) + "}"


def matchers_of(text: str) -> list[dict[str, Any]]:
    """Vigil selector text as Alertmanager matchers."""
    return [
        {
            "name": m.label,
            "value": m.value,
            "isRegex": m.op in (MatchOp.RE, MatchOp.NRE),
            "isEqual": m.op in (MatchOp.EQ, MatchOp.RE),
        }
        for m in parse_selector(text).matchers
    ]


def silence_state(starts: float, ends: float, now: float) -> str:
    """``pending``, ``active`` or ``expired``."""
    if ends <= now:
        return "expired"
    return "pending" if starts > now else "active"


def gettable_silence(row: Mapping[str, Any], now: float) -> dict[str, Any]:
    """A stored silence (``tasks.alerting.store.list_silences``) as a ``gettableSilence``."""
    starts, ends = _ts(row["starts_at"]), _ts(row["ends_at"])
    return {
        "id": str(row["id"]),
        "status": {"state": silence_state(starts, ends, now)},
        "updatedAt": rfc3339(_ts(row["created_at"])),
        "matchers": matchers_of(row["matchers"]),
        "startsAt": rfc3339(starts),
        "endsAt": rfc3339(ends),
        "createdBy": row["created_by"],
        "comment": row["comment"],
    }


def silence_matches(filter_: Selector, silence_matchers: str) -> bool:
    """True when a silence's equality matchers, read as labels, satisfy ``filter_``.

    >>> silence_matches(parse_selector('{job="a"}'), '{job="a", env=~"p.*"}')
    True
    """
    labels = {
        m.label: m.value for m in parse_selector(silence_matchers).matchers if m.op is MatchOp.EQ
    }
    return filter_.matches("", labels)


def _ts(value: datetime) -> float:
    """A stored time (SQLite gives it back naive, meaning UTC) as epoch seconds."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def alert_groups(
    alerts: Sequence[Mapping[str, Any]], routes: Sequence[RouteSpec]
) -> list[dict[str, Any]]:
    """Group gettable alerts as Alertmanager's ``GET /alerts/groups`` does: one group per
    receiver (channel) and the labels its route groups by, ordered by receiver and labels.

    >>> route = RouteSpec(None, ("ops",), group_by=("job",))
    >>> a, b = {"labels": {"job": "api", "i": "1"}}, {"labels": {"job": "api", "i": "2"}}
    >>> [group] = alert_groups([a, b], [route])
    >>> group["receiver"], group["labels"], len(group["alerts"])
    ({'name': 'ops'}, {'job': 'api'}, 2)
    """
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for alert in alerts:
        for i in matching_routes(alert["labels"], routes):
            by = group_labels(alert["labels"], routes[i].group_by)
            for channel in routes[i].channels:
                key = (channel, tuple(sorted(by.items())))
                group = groups.setdefault(
                    key, {"labels": by, "receiver": {"name": channel}, "alerts": []}
                )
                group["alerts"].append(alert)
    return [groups[key] for key in sorted(groups)]
