"""The seam for alert-triggered recovery: subscribers told when an alert starts firing.

The recovery capability appends a callable to ``ON_FIRING``; it receives a FiringAlert
with the rule's ``procedure`` (if the rule names one). A failing hook is logged and the
others still run: the alert has already been stored and will be notified regardless.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

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


FiringHook = Callable[[FiringAlert], None]
ON_FIRING: list[FiringHook] = []


def call_hooks(alert: FiringAlert, hooks: Sequence[FiringHook]) -> None:
    """Hand ``alert`` to every hook; one failing hook does not stop the others."""
    for hook in hooks:
        try:
            hook(alert)
        except Exception:
            log.exception("on_firing hook %r failed for %s", hook, alert.fingerprint)
