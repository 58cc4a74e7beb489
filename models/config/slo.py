"""The ``slos:`` section of vigil.yaml: objectives, their windows and their burn-rate alerts.

Each SLO becomes ordinary alert rules (``alert_rules``): one threshold rule per burn-rate
pair over the ``vigil_slo_burn_rate`` series that the SLO evaluation writes, so burn-rate
alerts are routed, grouped, silenced, acknowledged and escalated like any other alert.
"""

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from models.config.alerting import Rule, _check_selector
from models.config.base import Duration, Labels, StrictModel, first_repeat
from models.vocabulary.severity import Severity

BURN_RATE_SERIES = "vigil_slo_burn_rate"
SLI_SERIES = "vigil_slo_sli"
BUDGET_SERIES = "vigil_slo_budget_remaining"


class BurnAlert(StrictModel):
    """Alert when both windows burn the error budget at ``factor`` times the sustainable rate."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Names the generated rule.")
    long: Duration = Field(description="The long window: how much budget must be gone.")
    short: Duration = Field(description="The short window: it is still burning now.")
    factor: float = Field(gt=0, description="Burn rate both windows must reach (14.4 = 2%/h).")
    severity: Severity = Severity.CRITICAL

    @model_validator(mode="after")
    def _short_is_shorter(self) -> "BurnAlert":
        if self.short >= self.long:
            raise ValueError("`short:` must be shorter than `long:` (e.g. long: 1h, short: 5m)")
        return self


def workbook_alerts() -> list[BurnAlert]:
    """The SRE workbook's multiwindow, multi-burn-rate alerts for a 30-day SLO."""
    hour = timedelta(hours=1)
    return [
        BurnAlert(name="page-1h", long=hour, short=hour / 12, factor=14.4),
        BurnAlert(name="page-6h", long=6 * hour, short=hour / 2, factor=6.0),
        BurnAlert(
            name="ticket-3d",
            long=72 * hour,
            short=6 * hour,
            factor=1.0,
            severity=Severity.WARNING,
        ),
    ]


class Slo(StrictModel):
    """A service level objective: the share of good events (or good time) over a rolling window.

    Write either ``check:`` (availability from a check's states: up is good time, down and
    unreachable are bad) or ``good:`` and ``total:`` (counter selectors whose increases
    are the good and all events, e.g. non-5xx and all requests).
    """

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", description="Unique SLO name.")
    description: str = Field("", description="What it promises, in a sentence.")
    check: str | None = Field(None, description="Availability of this check's states.")
    good: str | None = Field(None, description='Counter selector of good events: ok{code!~"5.."}.')
    total: str | None = Field(None, description="Counter selector of all events.")
    target: float = Field(gt=0, lt=100, description="Objective in percent, e.g. 99.9.")
    window: Duration = Field(timedelta(days=30), description="Rolling window, e.g. 28d or 30d.")
    alerts: list[BurnAlert] = Field(
        default_factory=workbook_alerts, description="Burn-rate pairs (default: the workbook's)."
    )
    labels: Labels = Field(default_factory=dict, description="Added to its alerts.")

    _selectors_ok = field_validator("good", "total")(_check_selector)

    @model_validator(mode="after")
    def _one_source(self) -> "Slo":
        if self.check is not None and (self.good or self.total):
            raise ValueError("write either `check:` or `good:` and `total:`, not both")
        if self.check is None and not (self.good and self.total):
            raise ValueError("an SLO needs `check:` or both `good:` and `total:`")
        longest = max((a.long for a in self.alerts), default=timedelta(0))
        if longest > self.window:
            raise ValueError(f"an alert's long window ({longest}) exceeds the SLO's `window:`")
        repeat = first_repeat(a.name for a in self.alerts)
        if repeat:
            raise ValueError(f"alerts[{repeat[0]}]: {repeat[1]!r} is named twice")
        return self

    @property
    def error_budget(self) -> float:
        """The share of events that may be bad: 0.001 for 99.9 %."""
        return 1 - self.target / 100


def rule_name(slo: Slo, alert: BurnAlert) -> str:
    """The generated rule's name: ``slo:checkout:page-1h``."""
    return f"slo:{slo.name}:{alert.name}"


def burn_rule(slo: Slo, alert: BurnAlert, target: str | None) -> Rule:
    """The threshold rule that fires while ``alert``'s pair burns at ``factor`` or faster."""
    labels = {"slo": slo.name, **slo.labels}
    if target:
        labels.setdefault("target", target)
    summary = (
        f"SLO {slo.name} ({slo.target:g}% over {_short(slo.window)}) burns its error budget at "
        "{{ value }}x" + f" over {_short(alert.long)} and {_short(alert.short)}"
        f" (alert at {alert.factor:g}x)"
    )
    return Rule(
        name=rule_name(slo, alert),
        series=f'{BURN_RATE_SERIES}{{slo="{slo.name}",alert="{alert.name}"}}',
        op=">=",
        value=alert.factor,
        severity=alert.severity,
        labels=labels,
        annotations={"summary": summary},
    )


def _short(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def alert_rules(config) -> list[Rule]:  # type: ignore[no-untyped-def]
    """The config's own rules followed by those its SLOs generate."""
    targets = {check.name: check.target for check in config.checks}
    generated = [
        burn_rule(slo, alert, targets.get(slo.check or ""))
        for slo in config.slos
        for alert in slo.alerts
    ]
    return [*config.rules, *generated]


def slo_problem(config) -> tuple[tuple[str | int, ...], str] | None:  # type: ignore[no-untyped-def]
    """Return (field path, message) of a duplicate SLO, an unknown check or a rule clash."""
    repeat = first_repeat(s.name for s in config.slos)
    if repeat:
        return ("slos", repeat[0], "name"), f"SLO {repeat[1]!r} is defined twice"
    checks = {c.name for c in config.checks}
    rules = {r.name for r in config.rules}
    for index, slo in enumerate(config.slos):
        if slo.check is not None and slo.check not in checks:
            known = ", ".join(sorted(checks)) or "none"
            return ("slos", index, "check"), f"unknown check {slo.check!r}; known: {known}"
        for alert in slo.alerts:
            name = rule_name(slo, alert)
            if name in rules:
                return ("slos", index, "name"), f"its rule {name!r} clashes with a rule's name"
    return None
