"""Why automatic recovery must leave a target alone: a silence, maintenance, a DOWN parent.

What keeps an alert's notifications quiet also stops its recovery, through the same decision
(``tasks.core.alerting.muting``), limited to the causes in ``STOPS_RECOVERY``; the reason
is recorded.
"""

from collections.abc import Mapping

from tasks.core.alerting.muting import STOPS_RECOVERY, AlertFacts, MuteScene, quiet_reason


def recovery_suppressed(labels: Mapping[str, str], scene: MuteScene, *, now: float) -> str | None:
    """Return why recovery may not act for a firing alert with ``labels`` now, or None.

    >>> from models.vocabulary.selectors import parse_selector
    >>> from tasks.core.alerting.muting import SilenceSpec
    >>> s = SilenceSpec(12, parse_selector('{target="db"}'), 0.0, 60.0)
    >>> recovery_suppressed({"target": "db"}, MuteScene(silences=[s]), now=30.0)
    'silenced by #12'
    """
    mute = quiet_reason(AlertFacts(labels), scene, now=now, causes=STOPS_RECOVERY)
    return None if mute is None else mute.detail
