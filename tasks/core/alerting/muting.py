"""What mutes an alert, and why: the one decision notification, recovery and replays share.

An alert is kept *quiet* (not told) by a silence, a maintenance window, a DOWN parent, an
inhibiting alert, a verified automatic fix or an acknowledgement after it was told; its news
is *held* (told later) while its fix awaits a verdict, while it flaps or within its rule's
notify delay. Automatic recovery stops only for the first three (``STOPS_RECOVERY``): an
inhibited alert's own recovery may still help, and a held alert is still real.
The adapters gather the plain data (``MuteScene``, ``AlertFacts``); ``mutes_of`` decides.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import StrEnum

from models.vocabulary.selectors import Selector
from tasks.core.alerting.delay import is_delayed
from tasks.core.alerting.lifecycle import AlertState, Lifecycle
from tasks.core.alerting.maintenance_windows import MaintenanceSpec, maintenance_of


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
    return bool(inhibitors(labels, firing, rules))


def inhibitors(
    labels: Mapping[str, str],
    firing: Sequence[Mapping[str, str]],
    rules: Iterable[InhibitSpec],
) -> list[int]:
    """Return the indexes in ``firing`` of the alerts that mute ``labels``, in order."""
    found: list[int] = []
    for rule in rules:
        if not rule.target.matches("", labels):
            continue
        for i, source in enumerate(firing):
            if i in found or source is labels or not rule.source.matches("", source):
                continue
            if rule.source.matches("", labels) and source == labels:
                continue
            equal = rule.equal
            if rule.equal_except is not None:
                equal = tuple((source.keys() | labels.keys()) - rule.equal_except)
            if all(source.get(k, "") == labels.get(k, "") for k in equal):
                found.append(i)
    return sorted(found)


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
    labels: Mapping[str, str], parents: Mapping[str, set[str]], down: Set[str]
) -> str | None:
    """Return a (transitive) parent of the alert's ``target`` that is DOWN, or None.

    >>> down_parent({"target": "web"}, {"web": {"app", "db"}}, {"db"})
    'db'
    """
    found = sorted(parents.get(labels.get("target", ""), set()) & down)
    return found[0] if found else None


FIRING = Lifecycle(AlertState.FIRING)  # a bare firing alert (what recovery asks about)


class MuteCause(StrEnum):
    """Why an alert is muted, in the order the decision asks (the first that applies wins)."""

    SILENCE = "silence"  # an active operator silence matches its labels
    MAINTENANCE = "maintenance"  # an active maintenance window matches its labels
    PARENT_DOWN = "parent_down"  # a (transitive) parent of its target is DOWN
    INHIBITED = "inhibited"  # another firing alert mutes it through an inhibit rule
    FIXED = "fixed"  # remediation verified a fix of this episode: nobody is paged
    ACKNOWLEDGED = "acknowledged"  # someone holds it, after its group told it once
    VERIFYING = "verifying"  # held: its remediation awaits a verdict
    FLAPPING = "flapping"  # held: flap damping
    DELAYED = "delayed"  # held: its state is younger than the rule's notify delay


STOPS_RECOVERY = frozenset({MuteCause.SILENCE, MuteCause.MAINTENANCE, MuteCause.PARENT_DOWN})


@dataclass(frozen=True)
class Mute:
    """One reason an alert is muted: its cause and what a person reads (``silenced by #12``)."""

    cause: MuteCause
    detail: str


@dataclass(frozen=True)
class AlertMutes:
    """The decision for one alert: why it is kept quiet, and why its news is held (or None)."""

    quiet: Mute | None = None
    held: Mute | None = None


@dataclass(frozen=True)
class MuteScene:
    """What mutes alerts at one instant, gathered once per pass (windows: those active now)."""

    silences: Sequence[SilenceSpec] = ()
    windows: Sequence[MaintenanceSpec] = ()
    parents: Mapping[str, set[str]] = field(default_factory=dict)  # empty: parents never mute
    down: frozenset[str] = frozenset()  # targets DOWN now
    inhibit: Sequence[InhibitSpec] = ()
    firing: Sequence[Mapping[str, str]] = ()  # labels of the firing alerts (inhibition sources)


@dataclass(frozen=True)
class AlertFacts:
    """What the decision reads about one alert (a bare one: firing, told nothing, no delay)."""

    labels: Mapping[str, str]
    lifecycle: Lifecycle = FIRING
    notify_delay_s: tuple[float, float] = (0.0, 0.0)  # firing, resolved
    was_told: bool = False  # a group has told it
    is_acknowledged: bool = False  # at the instant decided
    is_flap_damped: bool = False  # flapping (and not a rule that alerts *on* flapping)
    remediation: str | None = None  # "quiet", "held" or None (``core.recovery.remediation``)


def _silence(alert: AlertFacts, scene: MuteScene, now: float) -> str | None:
    silence = silenced_by(alert.labels, scene.silences, now)
    return None if silence is None else f"silenced by #{silence}"


def _maintenance(alert: AlertFacts, scene: MuteScene, now: float) -> str | None:
    window = maintenance_of(alert.labels, scene.windows)
    return None if window is None else f"maintenance window {window}"


def _parent_down(alert: AlertFacts, scene: MuteScene, now: float) -> str | None:
    parent = down_parent(alert.labels, scene.parents, scene.down)
    return None if parent is None else f"parent {parent} DOWN"


def _inhibited(alert: AlertFacts, scene: MuteScene, now: float) -> str | None:
    is_muted = is_inhibited(alert.labels, scene.firing, scene.inhibit)
    return "inhibited by a firing alert" if is_muted else None


def _fixed(alert: AlertFacts, scene: MuteScene, now: float) -> str | None:
    return "fixed automatically" if alert.remediation == "quiet" else None


def _acknowledged(alert: AlertFacts, scene: MuteScene, now: float) -> str | None:
    return "acknowledged" if alert.is_acknowledged and alert.was_told else None


QUIET_CHECKS: tuple[tuple[MuteCause, Callable[[AlertFacts, MuteScene, float], str | None]], ...] = (
    (MuteCause.SILENCE, _silence),
    (MuteCause.MAINTENANCE, _maintenance),
    (MuteCause.PARENT_DOWN, _parent_down),
    (MuteCause.INHIBITED, _inhibited),
    (MuteCause.FIXED, _fixed),
    (MuteCause.ACKNOWLEDGED, _acknowledged),
)
QUIET = frozenset(cause for cause, _ in QUIET_CHECKS)


def mutes_of(alert: AlertFacts, scene: MuteScene, *, now: float) -> AlertMutes:
    """Decide why ``alert`` is kept quiet and why its news is held at ``now``.

    Only a firing alert is kept quiet; a told one that stopped firing may still be held.

    >>> from models.vocabulary.selectors import parse_selector
    >>> scene = MuteScene(silences=[SilenceSpec(7, parse_selector('{target="db"}'), 0, 60)])
    >>> mutes_of(AlertFacts({"target": "db"}, is_flap_damped=True), scene, now=30)
    AlertMutes(quiet=Mute(cause=<MuteCause.SILENCE: 'silence'>, detail='silenced by #7'), \
held=Mute(cause=<MuteCause.FLAPPING: 'flapping'>, detail='flapping'))
    """
    is_firing = alert.lifecycle.state is AlertState.FIRING
    return AlertMutes(quiet_reason(alert, scene, now=now) if is_firing else None, _held(alert, now))


def quiet_reason(
    alert: AlertFacts, scene: MuteScene, *, now: float, causes: frozenset[MuteCause] = QUIET
) -> Mute | None:
    """Return the first of ``causes`` that keeps the firing ``alert`` quiet at ``now``, or None."""
    for cause, check in QUIET_CHECKS:
        detail = check(alert, scene, now) if cause in causes else None
        if detail is not None:
            return Mute(cause, detail)
    return None


def recovery_mute(labels: Mapping[str, str], scene: MuteScene, *, now: float) -> Mute | None:
    """Return why automatic recovery must leave the firing alert ``labels`` alone, or None."""
    return quiet_reason(AlertFacts(labels), scene, now=now, causes=STOPS_RECOVERY)


def _held(alert: AlertFacts, now: float) -> Mute | None:
    firing_s, resolved_s = alert.notify_delay_s
    if alert.remediation == "held" and alert.lifecycle.state is AlertState.FIRING:
        return Mute(MuteCause.VERIFYING, "awaiting the verdict of its automatic fix")
    if alert.is_flap_damped:
        return Mute(MuteCause.FLAPPING, "flapping")
    delayed = is_delayed(
        alert.lifecycle, firing_s=firing_s, resolved_s=resolved_s, was_told=alert.was_told, now=now
    )
    return Mute(MuteCause.DELAYED, "within its notify delay") if delayed else None
