"""Routes: which channels, grouping timers and escalation an alert gets."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from models.vocabulary.selectors import Selector
from tasks.core.alerting.grouping import Timers


@dataclass(frozen=True)
class RouteSpec:
    """A compiled route; ``matchers`` None matches every alert."""

    matchers: Selector | None
    channels: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    timers: Timers = field(default_factory=Timers)
    escalation: tuple[tuple[float, tuple[str, ...]], ...] = ()  # (after seconds, channels)
    is_continue: bool = False
    per_incident: bool = False  # group its alerts by incident: one notification per incident


def matching_routes(labels: Mapping[str, str], routes: Sequence[RouteSpec]) -> list[int]:
    """Return the indexes of the routes an alert takes; the last route is the fallback.

    The first matching route wins unless it says ``continue``; an alert no route takes
    goes to the fallback (the last entry of ``routes``).

    >>> from models.vocabulary.selectors import parse_selector as p
    >>> routes = [RouteSpec(p('{severity="critical"}'), ("pager",)), RouteSpec(None, ("mail",))]
    >>> matching_routes({"severity": "warning"}, routes)
    [1]
    """
    taken = []
    for index, route in enumerate(routes[:-1]):
        if route.matchers is None or route.matchers.matches("", labels):
            taken.append(index)
            if not route.is_continue:
                return taken
    return taken or [len(routes) - 1]
