"""Group alerts into incidents and name the likely cause: pure decisions over plain data.

Two targets are related when one depends on the other (directly or through others) or
both depend on a common target. An alert joins the open incident that has a related
target (or the same one) among its members and whose newest member fired within the
window; otherwise it opens one. The likely cause is the member target that depends on no
other member target (the most upstream), the earliest such on a tie.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Ancestors = Mapping[str, set[str]]  # target -> every target it depends on, transitively


@dataclass(frozen=True)
class Member:
    """One alert of an incident."""

    target: str
    rule: str
    fired_at: float


@dataclass(frozen=True)
class OpenIncident:
    """An incident still open, with its members so far."""

    id: int
    members: tuple[Member, ...]

    @property
    def last_fired_at(self) -> float:
        """When its newest member fired."""
        return max(m.fired_at for m in self.members)


def are_related(a: str, b: str, ancestors: Ancestors) -> bool:
    """Same target, one upstream of the other, or a shared upstream target (an alert
    without a target relates to none).

    >>> up = {"web": {"db"}, "api": {"db"}, "db": set(), "cdn": set()}
    >>> are_related("web", "api", up), are_related("web", "db", up), are_related("web", "cdn", up)
    (True, True, False)
    """
    if not a or not b:
        return False
    above_a, above_b = ancestors.get(a, set()), ancestors.get(b, set())
    return a == b or a in above_b or b in above_a or bool(above_a & above_b)


def incident_for(
    target: str,
    fired_at: float,
    open_incidents: Sequence[OpenIncident],
    ancestors: Ancestors,
    *,
    window_s: float,
) -> int | None:
    """The id of the open incident ``target``'s alert joins, or None to open a new one."""
    for incident in sorted(open_incidents, key=lambda i: -i.last_fired_at):
        if fired_at - incident.last_fired_at > window_s:
            continue
        if any(are_related(target, m.target, ancestors) for m in incident.members):
            return incident.id
    return None


def likely_cause(members: Sequence[Member], ancestors: Ancestors) -> Member:
    """The most upstream member: its target depends on no other member's target.

    >>> up = {"web": {"db"}, "api": {"db"}, "db": set()}
    >>> likely_cause([Member("web", "Down", 1), Member("db", "Down", 2)], up).target
    'db'
    """
    targets = {m.target for m in members}
    upstream = [m for m in members if not (ancestors.get(m.target, set()) & (targets - {m.target}))]
    return min(upstream or members, key=lambda m: m.fired_at)


def ending(*, was_auto_fixed: bool, was_acknowledged: bool) -> str:
    """How an incident ended: a recovery fixed it, a person took it, or it passed."""
    if was_auto_fixed:
        return "auto-fixed"
    return "fixed by a person" if was_acknowledged else "resolved by itself"
