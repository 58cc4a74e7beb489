"""Rule features beyond the basic condition: tiers with clear lines, and trust gates.

Kept apart from ``models.config.alerting.Rule`` so each feature reads on its own:

* ``tiers`` / ``clear`` (hysteresis): one rule, several severities, each firing at its
  ``value`` and clearing only once the value is back past its ``clear`` line.
* ``min_history`` and ``corroborate``: an anomaly or forecast rule fires only on a series
  with enough history, and only when a second signal agrees.
"""

import itertools
from typing import Literal

from pydantic import Field, model_validator

from models.config.base import StrictModel
from models.vocabulary.severity import SEVERITY_RANK, Severity

Op = Literal[">", ">=", "<", "<=", "==", "!="]


class Tier(StrictModel):
    """One severity of a tiered rule: fire at ``value``, clear past ``clear``."""

    severity: Severity = Field(description="The alert's severity label in this tier.")
    value: float = Field(description="The threshold this tier fires at (with the rule's op).")
    clear: float | None = Field(
        None, description="Recovery line: the alert clears only past it (default: value)."
    )


class Corroboration(StrictModel):
    """A second signal that must agree before an anomaly or forecast rule fires."""

    op: Op | None = Field(None, description="Compare the watched series' newest value ...")
    value: float | None = Field(None, description="... with this value (both or neither).")
    rule: str | None = Field(
        None, description="Or: this other rule must be firing for the same series labels."
    )

    @model_validator(mode="after")
    def _one_signal(self) -> "Corroboration":
        has_threshold = self.op is not None and self.value is not None
        if (self.op is None) != (self.value is None):
            raise ValueError("corroborate needs both `op:` and `value:` (e.g. op: '>', value: 80)")
        if has_threshold == (self.rule is not None):
            raise ValueError("corroborate needs either `op:` and `value:` or `rule:`, not both")
        return self


def tiers_problem(op: str, tiers: list[Tier]) -> str | None:
    """Return what is wrong with a rule's tiers under ``op``, or None.

    Severities are distinct, a more severe tier is further past the line, and each clear
    line sits on the safe side of its value.

    >>> t = [Tier(severity="warning", value=80, clear=75), Tier(severity="critical", value=95)]
    >>> tiers_problem(">", t) is None, tiers_problem("<", t)
    (True, 'tier critical (95) must be further past the line than tier warning (80)')
    """
    if op in ("==", "!=") and any(t.clear is not None for t in tiers):
        return f"`clear:` needs an ordering op (>, >=, <, <=), not {op}"
    severities = [t.severity for t in tiers]
    if len(set(severities)) != len(severities):
        return "each tier needs its own severity"
    rising = op in (">", ">=")
    ordered = sorted(tiers, key=lambda t: SEVERITY_RANK[t.severity])
    for lower, higher in itertools.pairwise(ordered if op not in ("==", "!=") else []):
        if (higher.value <= lower.value) if rising else (higher.value >= lower.value):
            return (
                f"tier {higher.severity} ({higher.value:g}) must be further past the line "
                f"than tier {lower.severity} ({lower.value:g})"
            )
    for tier in tiers:
        if tier.clear is not None and (
            tier.clear > tier.value if rising else tier.clear < tier.value
        ):
            side = "at or below" if rising else "at or above"
            where = f"clear {tier.clear:g} must be {side} its value {tier.value:g}"
            return f"tier {tier.severity}: {where}"
    return None
