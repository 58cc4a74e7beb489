"""The seam for alert-triggered recovery: subscribers told when an alert starts firing.

The recovery capability appends a callable to ``ON_FIRING``; it receives a FiringAlert
with the rule's ``procedure`` (if the rule names one). ``on_evaluated`` hooks hear what
each pass judged (remediation counts its healthy cycles there). A failing hook is logged
and the others still run: the alert has already been stored and will be notified regardless.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tasks.core.alerting.rules import Observation
from tasks.core.checks.state import CheckReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiringAlert:
    """An alert that has just started firing."""

    rule: str
    fingerprint: str
    labels: Mapping[str, str]
    value: float | None
    fired_at: float  # epoch seconds
    procedure: str | None = None  # the recovery procedure the rule names, if any
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluated:
    """What one pass of the engine judged: fresh observations and check reports at ``now``."""

    now: float  # epoch seconds
    observations: Sequence[Observation] = ()
    check_results: Sequence[CheckReport] = ()


FiringHook = Callable[[FiringAlert], None]
EvaluatedHook = Callable[[Evaluated], None]
ON_FIRING: list[FiringHook] = []
T = TypeVar("T")


def call_hooks(item: T, hooks: Sequence[Callable[[T], None]]) -> None:
    """Hand ``item`` to every hook; one failing hook does not stop the others."""
    for hook in hooks:
        try:
            hook(item)
        except Exception:
            log.exception("alert hook %r failed on a %s", hook, type(item).__name__)
