"""The built-in Vigil* rules over the samples the self-watch writes, and their routes (no I/O).

A rule the user defines with the same name replaces the built-in one. Alerts about a
failing channel go to every *other* channel: the failing one would not deliver them.
"""

from models.config.alerting import Grouping, Route, Rule
from models.config.self_watch import SelfWatch

CHANNEL_RULES = ("VigilChannelFailing", "VigilChannelBreakerOpen")


def builtin_rules(watch: SelfWatch) -> list[Rule]:
    """The Vigil* rules for ``watch``'s thresholds (none when it is disabled)."""
    if not watch.enabled:
        return []
    s = watch.collection_stopped_after.total_seconds()

    def rule(name: str, series: str, op: str, value: float, summary: str, **more) -> Rule:  # type: ignore[no-untyped-def]
        annotations = {"summary": summary}
        return Rule.model_validate(
            {"name": name, "series": series, "op": op, "value": value, **more}
            | {"labels": {"vigil": "self"}, "annotations": annotations}
        )

    return [
        rule(
            "VigilCollectionStopped",
            "vigil_collection_age_seconds",
            ">",
            s,
            "Vigil stored no collect tick for {{ value }} s",
            severity="critical",
        ),
        rule(
            "VigilOutboxBacklog",
            "vigil_outbox_depth",
            ">=",
            watch.outbox_depth,
            "{{ value }} notices wait in Vigil's outbox",
        ),
        rule(
            "VigilOutboxStuck",
            "vigil_outbox_oldest_age_seconds",
            ">",
            watch.outbox_oldest_age.total_seconds(),
            "Vigil's oldest undelivered notice is {{ value }} s old",
        ),
        rule(
            "VigilChannelFailing",
            "vigil_channel_consecutive_failures",
            ">=",
            watch.channel_failures,
            "channel {{ labels.channel }} failed {{ value }} sends in a row",
        ),
        rule(
            "VigilChannelBreakerOpen",
            "vigil_channel_breaker_state",
            ">=",
            2,
            "channel {{ labels.channel }}'s circuit breaker is open",
            **{"for": "10m"},
        ),
        rule(
            "VigilStoreUnreachable",
            "vigil_store_up",
            "<",
            1,
            "Vigil's store refused writes (samples waited in memory)",
            severity="critical",
        ),
        rule(
            "VigilStoreSlow",
            "vigil_store_write_seconds",
            ">",
            watch.store_slow_seconds,
            "a store write took {{ value }} s",
            **{"for": "5m"},
        ),
        rule(
            "VigilRetentionBehind",
            "vigil_retention_lag_seconds",
            ">",
            watch.retention_lag.total_seconds(),
            "data is kept {{ value }} s past its retention; is maintenance running?",
        ),
        rule(
            "VigilDeploymentLate",
            "vigil_deployment_late_runs",
            ">",
            0,
            "deployment {{ labels.deployment }} has {{ value }} late runs",
        ),
        rule(
            "VigilDeploymentFailing",
            "vigil_deployment_failed_runs",
            ">",
            0,
            "deployment {{ labels.deployment }} has {{ value }} failed runs",
        ),
    ]


def with_builtin_rules(rules: list[Rule], watch: SelfWatch) -> list[Rule]:
    """``rules`` plus every built-in rule the user did not define by name."""
    defined = {r.name for r in rules}
    return [*rules, *(r for r in builtin_rules(watch) if r.name not in defined)]


def channel_failure_routes(channels: list[str], grouping: Grouping) -> list[Route]:
    """One route per channel: its own failure alerts go to every other channel."""
    rules = "|".join(CHANNEL_RULES)
    return [
        Route(
            **grouping.model_dump(),
            match=f'{{alertname=~"{rules}", channel="{channel}"}}',
            channels=[c for c in channels if c != channel],
        )
        for channel in channels
        if len(channels) > 1
    ]


def has_rules(rules: list[Rule], watch: SelfWatch) -> bool:
    """True when there is any rule to evaluate, the built-in ones included."""
    return bool(rules) or watch.enabled
