"""Why automatic recovery must leave a target alone: a silence, maintenance, a DOWN parent.

What keeps an alert's notifications quiet also stops its recovery; the reason is recorded.
"""

from collections.abc import Iterable, Mapping

from tasks.core.alerting.maintenance_windows import MaintenanceSpec, maintenance_of
from tasks.core.alerting.muting import SilenceSpec, down_parent, silenced_by


def recovery_suppressed(
    labels: Mapping[str, str],
    *,
    silences: Iterable[SilenceSpec],
    maintenance: Iterable[MaintenanceSpec],
    parents: Mapping[str, set[str]],
    down: set[str],
    now: float,
) -> str | None:
    """Return why recovery may not act for an alert with ``labels`` now, or None.

    ``maintenance`` holds the windows active at ``now`` (``active_windows``).

    >>> from models.vocabulary.selectors import parse_selector
    >>> s = SilenceSpec(12, parse_selector('{target="db"}'), 0.0, 60.0)
    >>> recovery_suppressed({"target": "db"}, silences=[s], maintenance=[], parents={},
    ...                     down=set(), now=30.0)
    'silenced by #12'
    """
    silence = silenced_by(labels, silences, now)
    if silence is not None:
        return f"silenced by #{silence}"
    window = maintenance_of(labels, maintenance)
    if window is not None:
        return f"maintenance window {window}"
    parent = down_parent(labels, parents, down)
    if parent is not None:
        return f"parent {parent} DOWN"
    return None
