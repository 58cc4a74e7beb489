"""Turn the alerting sections of a VigilConfig into compiled, ready-to-use specs."""

from dataclasses import dataclass, field

from models.config.alerting import FlapDetection, NotifyDelay
from models.config.root import VigilConfig
from models.config.slo import alert_rules
from models.vocabulary.media import Medium
from models.vocabulary.selectors import Selector, label_matcher, parse_selector
from models.vocabulary.severity import SEVERITY_RANK
from tasks.core.alerting.flapping import FlapParams
from tasks.core.alerting.grouping import Timers
from tasks.core.alerting.maintenance_windows import MaintenanceSpec
from tasks.core.alerting.muting import InhibitSpec, ancestors
from tasks.core.alerting.routing import RouteSpec
from tasks.core.alerting.rules import RuleSpec, compile_rule
from tasks.core.notify.shape import Override
from tasks.core.recovery.remediation import Policy
from tasks.core.resilience.breaker import BreakerParams
from tasks.notify.channels import ChannelSpec
from tasks.selfwatch.rules import channel_failure_routes, with_builtin_rules


@dataclass(frozen=True)
class AlertingPlan:
    """Everything the engine needs from the config."""

    rules: list[RuleSpec]
    routes: list[RouteSpec]  # the last one is the fallback
    inhibit: list[InhibitSpec]
    parents: dict[str, set[str]]
    channels: dict[str, ChannelSpec]
    send_resolved: dict[str, bool]
    flap: FlapParams = field(default_factory=FlapParams)
    stale_after_s: float = 300.0
    resolve_timeout_s: float = 300.0  # external alerts (Alertmanager API) not re-sent resolve
    dashboard_url: str = "http://127.0.0.1:8501"
    prefect_ui_url: str | None = None
    backoff: tuple[float, float] = (5.0, 600.0)
    parent_down_inhibits: bool = True
    incident_window_s: float = 300.0
    down_rules: frozenset[str] = field(default_factory=frozenset)
    notify_delays: dict[str, tuple[float, float]] = field(default_factory=dict)  # firing, resolved
    maintenance: tuple[MaintenanceSpec, ...] = ()
    remediate: dict[str, Policy] = field(default_factory=dict)  # rule name -> its policy
    templates: dict[Medium, Override] = field(default_factory=dict)  # the user's, per medium


def _timers(grouping) -> Timers:  # type: ignore[no-untyped-def]
    return Timers(
        grouping.group_wait.total_seconds(),
        grouping.group_interval.total_seconds(),
        grouping.repeat_interval.total_seconds(),
        grouping.repeat_factor,
        grouping.repeat_max.total_seconds() if grouping.repeat_max else None,
    )


def flap_params(settings: FlapDetection) -> FlapParams:
    """The flap settings of vigil.yaml's ``alerting.flapping``, in seconds."""
    window = settings.window.total_seconds()
    return FlapParams(window, settings.high, settings.low, settings.max_changes)


def build_plan(config: VigilConfig) -> AlertingPlan:
    """Compile rules, routes (plus the fallback to every channel), inhibition and targets."""
    settings = config.alerting
    policies = {p.name: p for p in config.escalation_policies}
    routes = []
    everyone = tuple(c.name for c in config.channels)
    own = (
        channel_failure_routes(list(everyone), settings.default)
        if config.self_watch.enabled
        else []
    )
    for route in [*own, *config.routes]:
        policy = policies.get(route.escalation) if route.escalation else None
        levels = tuple(
            (lvl.after.total_seconds(), tuple(lvl.channels))
            for lvl in (policy.levels if policy else ())
        )
        routes.append(
            RouteSpec(
                None if route.match.strip() == "{}" else parse_selector(route.match),
                tuple(route.channels),
                tuple(route.group_by),
                _timers(route),
                levels,
                route.continue_,
                route.per_incident,
            )
        )
    routes.append(
        RouteSpec(None, everyone, tuple(settings.default.group_by), _timers(settings.default))
    )
    # SLOs' burn-rate rules and Vigil's own built-in rules too
    rules = [compile_rule(r) for r in with_builtin_rules(alert_rules(config), config.self_watch)]
    return AlertingPlan(
        rules=rules,
        routes=routes,
        inhibit=[
            InhibitSpec(parse_selector(i.source), parse_selector(i.target), tuple(i.equal))
            for i in config.inhibit_rules
        ]
        + [spec for rule in rules for spec in tier_inhibitions(rule)],
        parents=ancestors({t.name: t.depends_on for t in config.targets}),
        channels={c.name: channel_spec(c) for c in config.channels},
        send_resolved={c.name: c.send_resolved for c in config.channels},
        flap=flap_params(settings.flapping),
        stale_after_s=settings.stale_after.total_seconds(),
        resolve_timeout_s=settings.resolve_timeout.total_seconds(),
        dashboard_url=settings.dashboard_url,
        prefect_ui_url=settings.prefect_ui_url,
        backoff=(
            settings.retry_backoff.total_seconds(),
            settings.retry_backoff_max.total_seconds(),
        ),
        parent_down_inhibits=settings.parent_down_inhibits,
        incident_window_s=settings.incident_window.total_seconds(),
        down_rules=frozenset(
            r.name for r in rules if r.kind == "check_state" and r.state == "down"
        ),
        notify_delays={
            r.name: (r.notify_delay.firing.total_seconds(), r.notify_delay.resolved.total_seconds())
            for r in config.rules
            if r.notify_delay != NotifyDelay()
        },
        maintenance=tuple(maintenance_spec(w) for w in config.maintenance_windows),
        remediate={r.name: policy_of(r.remediate) for r in config.rules if r.remediate},
        templates={m: Override(t.title, t.body) for m, t in settings.templates.items()},
    )


def channel_spec(channel) -> ChannelSpec:  # type: ignore[no-untyped-def]
    """Compile a configured channel (models.config.alerting.Channel)."""
    return ChannelSpec(
        channel.url,
        channel.medium,
        channel.timeout.total_seconds(),
        BreakerParams(channel.breaker.failures, channel.breaker.cooldown.total_seconds()),
        channel.rate_limit,
    )


def tier_inhibitions(rule: RuleSpec) -> list[InhibitSpec]:
    """Let a firing tier of a rule mute its lower tiers on the same series.

    Alertmanager users write critical-inhibits-warning by hand; a tiered rule implies it.
    """
    out = []
    for high in rule.tiers:
        for low in rule.tiers:
            if SEVERITY_RANK[low.severity] < SEVERITY_RANK[high.severity]:
                out.append(
                    InhibitSpec(
                        _tier_selector(rule.name, high.severity),
                        _tier_selector(rule.name, low.severity),
                        (),
                        equal_except=frozenset({"severity"}),
                    )
                )
    return out


def _tier_selector(rule: str, severity: str) -> Selector:
    return Selector(
        None, (label_matcher("alertname", "=", rule), label_matcher("severity", "=", severity))
    )


def maintenance_spec(window) -> MaintenanceSpec:  # type: ignore[no-untyped-def]
    """Compile a configured maintenance window (models.config.remediation)."""
    one_off = {}
    if window.start is not None:
        one_off = {
            "start": window.local(window.start).timestamp(),
            "end": window.local(window.end).timestamp(),
        }
    return MaintenanceSpec(
        window.name,
        parse_selector(window.match),
        window.timezone,
        window.schedule,
        window.duration.total_seconds() if window.duration else 0.0,
        **one_off,
    )


def policy_of(remediate) -> Policy:  # type: ignore[no-untyped-def]
    """Compile a rule's ``remediate:`` section."""
    return Policy(
        remediate.attempts,
        remediate.window.total_seconds(),
        remediate.verify_within.total_seconds(),
        remediate.reset_after_healthy,
        remediate.first,
    )
