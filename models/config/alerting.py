"""The alerting sections of vigil.yaml: rules, channels, routes, inhibition, escalation."""

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from models.config.base import Breaker, Duration, Labels, StrictModel, first_repeat
from models.config.channel_url import check_channel_url
from models.config.remediation import Remediate
from models.config.rule_features import Corroboration, Tier, tiers_problem
from models.errors import MatcherError
from models.vocabulary.media import MESSAGE_VARIABLES, Medium, medium_of
from models.vocabulary.selectors import parse_selector
from models.vocabulary.severity import Severity
from models.vocabulary.templates import compile_template, unknown_variables

SECOND = timedelta(seconds=1)


class RuleKind(StrEnum):
    """What a rule watches."""

    THRESHOLD = "threshold"  # a series (or an aggregate over a window) compared with a value
    ABSENCE = "absence"  # a series that stopped reporting (or never did) for `for:`
    RATE_OF_CHANGE = "rate_of_change"  # slope over a window, per `per:`, compared with a value
    CHECK_STATE = "check_state"  # a health check that is DOWN (hard) or flapping
    ANOMALY = "anomaly"  # analytics' anomaly score of a series at or above `min_score`
    FORECAST = "forecast"  # analytics predicts the series crosses `threshold` within `within:`
    ALL = "all"  # every listed rule fires for the same `join_on:` labels
    ANY = "any"  # at least one listed rule fires for the `join_on:` labels


class Aggregate(StrEnum):
    """How a window of samples becomes one value."""

    LAST = "last"  # the newest sample (no window needed)
    AVG = "avg"  # mean over the window
    MIN = "min"  # smallest over the window
    MAX = "max"  # largest over the window
    P95 = "p95"  # 95th percentile over the window
    RATE = "rate"  # per-second increase of a counter over the window (resets handled)


Op = Literal[">", ">=", "<", "<=", "==", "!="]


def _check_selector(text: str | None) -> str | None:
    if text is not None:
        try:
            parse_selector(text)
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return text


def _check_matchers(text: str) -> str:
    """Matchers are written as a selector without a name: ``{severity="critical"}``."""
    selector = _check_selector(text)
    assert selector is not None
    if parse_selector(selector).name is not None:
        raise ValueError(f"{text!r} names a metric; write label matchers only, like {{a='b'}}")
    return selector


def _compiles(text: str) -> str:
    compile_template(text)
    unknown = unknown_variables(text)
    if unknown:
        raise ValueError(
            f"unknown variable {unknown[0]!r} in template; use labels.NAME and value, "
            "e.g. {{ labels.target }} at {{ value }}"
        )
    return text


Template = Annotated[str, AfterValidator(_compiles)]
"""A Jinja template over ``labels`` and ``value``: ``{{ labels.target }} at {{ value }}``."""


class NotifyDelay(StrictModel):
    """How long a state must hold before it is notified; shorter blips send nothing."""

    firing: Duration = Field(timedelta(0), description="Firing this long before it is told.")
    resolved: Duration = Field(timedelta(0), description="Resolved this long before it is told.")


class Rule(StrictModel):
    """One alert rule; its name becomes the ``alertname`` label."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_:.-]*$", description="Unique rule name.")
    kind: RuleKind = RuleKind.THRESHOLD
    series: str | None = Field(None, description='Selector, e.g. cpu{host=~"web.*"}.')
    aggregate: Aggregate = Aggregate.LAST
    window: Duration = Field(timedelta(minutes=5), description="Window of aggregates and slopes.")
    op: Op = ">"
    value: float | None = Field(None, description="The threshold the value is compared with.")
    per: Duration = Field(SECOND, description="rate_of_change unit: change per this long.")
    check: str | None = Field(None, description="check_state: matchers on check, target, labels.")
    state: Literal["down", "flapping"] = "down"
    min_score: float = Field(
        0.903, ge=0, le=1, description="anomaly: fire at this score (bench/nab.py --cv 5 picks it)."
    )
    threshold: float | None = Field(None, description="forecast: the level predicted to cross.")
    within: Duration = Field(timedelta(minutes=30), description="forecast: how soon.")
    rules: list[str] = Field(default_factory=list, description="all/any: the combined rules.")
    join_on: list[str] = Field(default_factory=lambda: ["target"], description="all/any: join.")
    for_: Duration = Field(timedelta(0), alias="for", description="How long before firing.")
    keep_firing_for: Duration = Field(timedelta(0), description="Stay firing after clearing.")
    severity: Severity = Severity.WARNING
    labels: Labels = Field(default_factory=dict)
    annotations: dict[str, Template] = Field(default_factory=dict, description="summary, …")
    procedure: str | None = Field(None, description="Recovery procedure to run when it fires.")
    notify_delay: NotifyDelay = Field(
        default_factory=NotifyDelay, description="Notify a state only once it held this long."
    )
    # -- tiers and hysteresis (models/config/rule_features.py) --
    clear: float | None = Field(None, description="Recovery line: clears only past it.")
    tiers: list[Tier] = Field(
        default_factory=list, description="Severities with their own value and clear line."
    )
    # -- trust gates of anomaly and forecast rules --
    min_history: Duration = Field(
        timedelta(0), description="anomaly/forecast: the watched series' age before firing."
    )
    corroborate: Corroboration | None = Field(
        None, description="anomaly/forecast: a threshold or rule that must agree."
    )
    remediate: Remediate | None = Field(
        None, description="Run the recovery first; page only if it did not fix it."
    )

    model_config = StrictModel.model_config | {"populate_by_name": True}

    _series_ok = field_validator("series")(_check_selector)
    _check_ok = field_validator("check")(
        lambda text: _check_matchers(text) if text is not None else None
    )

    @model_validator(mode="after")
    def _kind_has_its_fields(self) -> "Rule":
        needs = {
            RuleKind.THRESHOLD: ("series", "value"),
            RuleKind.ABSENCE: ("series",),
            RuleKind.RATE_OF_CHANGE: ("series", "value"),
            RuleKind.CHECK_STATE: (),
            RuleKind.ANOMALY: ("series",),
            RuleKind.FORECAST: ("series", "threshold"),
            RuleKind.ALL: ("rules",),
            RuleKind.ANY: ("rules",),
        }[self.kind]
        for name in needs:
            if getattr(self, name) in (None, "", []) and not (name == "value" and self.tiers):
                raise ValueError(f"a {self.kind} rule needs `{name}:`")
        if self.kind is RuleKind.ABSENCE and self.for_ <= timedelta(0):
            raise ValueError("an absence rule needs `for:` (how long without data), e.g. 5m")
        return self

    @model_validator(mode="after")
    def _features_fit_the_kind(self) -> "Rule":
        graded = (RuleKind.THRESHOLD, RuleKind.RATE_OF_CHANGE)
        if (self.tiers or self.clear is not None) and self.kind not in graded:
            raise ValueError("`tiers:` and `clear:` belong to threshold and rate_of_change rules")
        if self.tiers and (
            self.value is not None or self.clear is not None or "severity" in self.model_fields_set
        ):
            raise ValueError(
                "with `tiers:`, write severity, value and clear in each tier, not on the rule"
            )
        tiers = self.tiers or (
            [Tier(severity=self.severity, value=self.value, clear=self.clear)]
            if self.value is not None
            else []
        )
        problem = tiers_problem(self.op, tiers)
        if problem:
            raise ValueError(problem)
        trusted = (RuleKind.ANOMALY, RuleKind.FORECAST)
        if (self.min_history or self.corroborate) and self.kind not in trusted:
            raise ValueError(
                "`min_history:` and `corroborate:` belong to anomaly and forecast rules"
            )
        return self


class Channel(StrictModel):
    """Where notifications go: an apprise URL.

    ``${NAME}`` in the URL is read from the environment and ``${secret:block}`` from a
    Prefect Secret block when delivering; neither is stored nor logged.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: Annotated[str, AfterValidator(check_channel_url)] = Field(
        max_length=4096, description="apprise URL: mailtos://…, slack://…, json://host/path, …"
    )
    send_resolved: bool = Field(True, description="Also send resolve notices.")
    kind: Medium | None = Field(
        None, description="slack, chat, email, sms, push, webhook or text; default: from the URL."
    )
    timeout: Duration = Field(
        timedelta(seconds=10), description="Longest wait for one delivery (connect, then read)."
    )
    breaker: Breaker = Field(default_factory=Breaker)
    rate_limit: int | None = Field(
        None, ge=1, description="At most this many notices an hour, then one summary."
    )

    @model_validator(mode="after")
    def _webhook_posts_http(self) -> "Channel":
        if self.kind is Medium.WEBHOOK and not self.url.startswith(("json://", "jsons://")):
            raise ValueError("a webhook channel's URL is json://host/path or jsons://host/path")
        return self

    @property
    def medium(self) -> Medium:
        """How its notices are shaped."""
        return self.kind or medium_of(self.url)


def _message_template(text: str | None) -> str | None:
    if text is not None:
        compile_template(text)
        unknown = unknown_variables(text, MESSAGE_VARIABLES)
        if unknown:
            known = ", ".join(sorted(MESSAGE_VARIABLES))
            raise ValueError(f"unknown variable {unknown[0]!r} in template; known: {known}")
    return text


class MessageTemplate(StrictModel):
    """A medium's title and/or body as a Jinja template (unset: Vigil's default shape)."""

    title: Annotated[str | None, AfterValidator(_message_template)] = None
    body: Annotated[str | None, AfterValidator(_message_template)] = None


class Grouping(StrictModel):
    """Alertmanager's grouping timers, with its defaults."""

    group_by: list[str] = Field(
        default_factory=list,
        description="Labels that split groups; [] = one group; ['...'] = one per alert.",
    )
    group_wait: Duration = Field(timedelta(seconds=30), description="Wait before a new group.")
    group_interval: Duration = Field(timedelta(minutes=5), description="Wait between changes.")
    repeat_interval: Duration = Field(timedelta(hours=4), description="Re-send unchanged.")
    repeat_factor: float = Field(
        1.0, ge=1, description="Each repeat of an unchanged group waits this much longer."
    )
    repeat_max: Duration | None = Field(None, description="The longest wait between repeats.")


class Route(Grouping):
    """Alerts matching ``match`` go to ``channels`` (first match wins unless ``continue``)."""

    match: str = Field("{}", description='Label matchers, e.g. {severity="critical"}.')
    channels: list[str] = Field(default_factory=list)
    escalation: str | None = Field(None, description="Escalation policy name.")
    continue_: bool = Field(False, alias="continue", description="Also try later routes.")
    per_incident: bool = Field(
        False, description="Group by incident (related targets): one notification per incident."
    )

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @field_validator("match")
    @classmethod
    def _matchers_ok(cls, text: str) -> str:
        return text if text.strip() == "{}" else _check_matchers(text)


class InhibitRule(StrictModel):
    """A firing ``source`` alert mutes ``target`` alerts that share the ``equal`` labels."""

    source: str = Field(description='Matchers of the inhibiting alert, e.g. {severity="critical"}.')
    target: str = Field(description='Matchers of the muted alerts, e.g. {severity="warning"}.')
    equal: list[str] = Field(default_factory=lambda: ["target"])

    _source_ok = field_validator("source", "target")(_check_matchers)


class EscalationLevel(StrictModel):
    """After ``after`` unacknowledged firing, notify ``channels``."""

    after: Duration
    channels: list[str] = Field(min_length=1)


class EscalationPolicy(StrictModel):
    """Levels that page further people while an alert stays unacknowledged."""

    name: str
    levels: list[EscalationLevel] = Field(min_length=1)


class FlapDetection(StrictModel):
    """Nagios-like flap detection over state changes within a window."""

    window: Duration = timedelta(minutes=30)
    high: float = Field(50.0, ge=0, le=100, description="Start flapping at this % change.")
    low: float = Field(25.0, ge=0, le=100, description="Stop flapping below this % change.")
    max_changes: int = Field(10, ge=2, description="Changes in the window that make 100 %.")


class Alerting(StrictModel):
    """Global alerting settings."""

    default: Grouping = Field(
        default_factory=lambda: Grouping(), description="Route used when none match."
    )
    flapping: FlapDetection = Field(default_factory=FlapDetection)
    stale_after: Duration = Field(timedelta(minutes=5), description="No data: alert resolves.")
    resolve_timeout: Duration = Field(
        timedelta(minutes=5),
        description="An alert posted to the Alertmanager API and not re-sent resolves after this.",
    )
    dashboard_url: str = Field("http://127.0.0.1:8501", description="Links in notifications.")
    prefect_ui_url: str | None = Field(None, description="Links to the Prefect run, if known.")
    retry_backoff: Duration = Field(timedelta(seconds=5), description="First retry delay.")
    retry_backoff_max: Duration = Field(timedelta(minutes=10), description="Longest retry delay.")
    parent_down_inhibits: bool = Field(True, description="A DOWN parent mutes its dependents.")
    incident_window: Duration = Field(
        timedelta(minutes=5), description="Alerts on related targets this close: one incident."
    )
    incident_correlation: float | None = Field(
        0.7,
        gt=0,
        le=1,
        description="Alerts this close whose series' minute-to-minute changes over the hour "
        "before correlate at least this much (Pearson r) join one incident; null: off.",
    )
    templates: dict[Medium, MessageTemplate] = Field(
        default_factory=dict, description="Per medium: your title/body templates."
    )


def alerting_problem(config) -> tuple[tuple[str | int, ...], str] | None:  # type: ignore[no-untyped-def]
    """Return (field path, message) of the first unknown or duplicate name, or None."""
    repeat = first_repeat(r.name for r in config.rules)
    if repeat:
        return ("rules", repeat[0], "name"), f"rule {repeat[1]!r} is defined twice"
    rules = {r.name for r in config.rules}
    channels = {c.name for c in config.channels}
    policies = {p.name for p in config.escalation_policies}
    for index, rule in enumerate(config.rules):
        for source in rule.rules:
            if source not in rules or source == rule.name:
                return ("rules", index, "rules"), f"{source!r} is not another rule's name"
        other = rule.corroborate.rule if rule.corroborate else None
        if other is not None and (other not in rules or other == rule.name):
            return ("rules", index, "corroborate"), f"{other!r} is not another rule's name"
    repeat = first_repeat(c.name for c in config.channels)
    if repeat:
        return ("channels", repeat[0], "name"), f"channel {repeat[1]!r} is defined twice"
    for index, route in enumerate(config.routes):
        for name in route.channels:
            if name not in channels:
                return ("routes", index, "channels"), _unknown("channel", name, channels)
        if route.escalation and route.escalation not in policies:
            return ("routes", index, "escalation"), _unknown("policy", route.escalation, policies)
    for p_index, policy in enumerate(config.escalation_policies):
        for l_index, level in enumerate(policy.levels):
            for name in level.channels:
                if name not in channels:
                    loc = ("escalation_policies", p_index, "levels", l_index, "channels")
                    return loc, _unknown("channel", name, channels)
    return None


def _unknown(kind: str, name: str, known: set[str]) -> str:
    return f"unknown {kind} {name!r}; known: {', '.join(sorted(known)) or 'none'}"
