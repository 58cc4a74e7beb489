"""Silences and inhibition: which firing alerts are kept quiet, and why."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from models.vocabulary.selectors import Selector


@dataclass(frozen=True)
class SilenceSpec:
    """An operator's silence: matchers, a time span (epoch seconds) and an id."""

    id: int
    matchers: Selector
    starts_at: float
    ends_at: float

    def is_active(self, now: float) -> bool:
        """True from ``starts_at`` until it ends (a silence expires by itself)."""
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class InhibitSpec:
    """A firing ``source`` alert mutes ``target`` alerts with the same ``equal`` labels."""

    source: Selector
    target: Selector
    equal: tuple[str, ...]
    equal_except: frozenset[str] | None = None  # set: every label but these must be equal


def silenced_by(labels: Mapping[str, str], silences: Iterable[SilenceSpec], now: float):
    """Return the id of an active silence matching ``labels``, or None."""
    for silence in silences:
        if silence.is_active(now) and silence.matchers.matches("", labels):
            return silence.id
    return None


def is_inhibited(
    labels: Mapping[str, str],
    firing: Sequence[Mapping[str, str]],
    rules: Iterable[InhibitSpec],
) -> bool:
    """True when a firing alert matching a rule's source mutes ``labels`` (not itself).

    >>> from models.vocabulary.selectors import parse_selector as p
    >>> rule = InhibitSpec(p('{severity="critical"}'), p('{severity="warning"}'), ("target",))
    >>> crit = {"severity": "critical", "target": "db"}
    >>> is_inhibited({"severity": "warning", "target": "db"}, [crit], [rule])
    True
    """
    for rule in rules:
        if not rule.target.matches("", labels):
            continue
        for source in firing:
            if source is labels or not rule.source.matches("", source):
                continue
            if rule.source.matches("", labels) and source == labels:
                continue
            equal = rule.equal
            if rule.equal_except is not None:
                equal = tuple((source.keys() | labels.keys()) - rule.equal_except)
            if all(source.get(k, "") == labels.get(k, "") for k in equal):
                return True
    return False


def ancestors(depends_on: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """Return every target's transitive parents.

    >>> sorted(ancestors({"web": ["app"], "app": ["db"], "db": []})["web"])
    ['app', 'db']
    """
    out: dict[str, set[str]] = {}

    def visit(name: str, seen: set[str]) -> set[str]:
        if name in out:
            return out[name]
        found: set[str] = set()
        for parent in depends_on.get(name, ()):
            if parent not in seen:
                found |= {parent} | visit(parent, seen | {name})
        out[name] = found
        return found

    for name in depends_on:
        visit(name, set())
    return out


def down_parent(
    labels: Mapping[str, str], parents: Mapping[str, set[str]], down: set[str]
) -> str | None:
    """Return a (transitive) parent of the alert's ``target`` that is DOWN, or None.

    >>> down_parent({"target": "web"}, {"web": {"app", "db"}}, {"db"})
    'db'
    """
    found = sorted(parents.get(labels.get("target", ""), set()) & down)
    return found[0] if found else None


def has_parent_down(labels: Mapping[str, str], parents: Mapping[str, set[str]], down: set[str]):
    """True when a (transitive) parent of the alert's ``target`` is DOWN."""
    return down_parent(labels, parents, down) is not None
