"""What a health check reports after each run: the contract between checks and alerting."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CheckStatus(StrEnum):
    """The state of a check."""

    UP = "up"  # the check passes
    DOWN = "down"  # the check fails
    UNREACHABLE = "unreachable"  # a parent is down, so this check's result says nothing
    UNKNOWN = "unknown"  # not run yet, or in a maintenance window
    LATE = "late"  # Vigil could not start it on time (overloaded): a result, never a state


@dataclass(frozen=True)
class CheckReport:
    """One check's state after a run; ``is_hard`` once it held for the configured attempts."""

    check: str
    target: str
    status: CheckStatus
    is_hard: bool
    at: datetime
    message: str = ""
    latency_ms: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
