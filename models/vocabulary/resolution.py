"""Which stored resolution answers a range query: raw samples, 1-minute or 1-hour rollups."""

from datetime import datetime, timedelta
from enum import StrEnum


class Resolution(StrEnum):
    """The step of stored points."""

    RAW = "raw"  # every sample as written
    MINUTE = "1m"  # rollup_1m: min, max, avg, count, last per minute
    HOUR = "1h"  # rollup_1h: the same per hour


STEP_MS = {Resolution.MINUTE: 60_000, Resolution.HOUR: 3_600_000}
RAW_MAX_SPAN = timedelta(hours=6)  # ~2,000 points at a 10 s interval
MINUTE_MAX_SPAN = timedelta(days=7)  # ~10,000 points


def choose_resolution(
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    raw_keep: timedelta,
    minute_keep: timedelta,
) -> Resolution:
    """Return the finest resolution that is short enough for the span and still kept.

    >>> from datetime import UTC
    >>> now = datetime(2026, 1, 31, tzinfo=UTC)
    >>> keep = dict(now=now, raw_keep=timedelta(days=7), minute_keep=timedelta(days=30))
    >>> choose_resolution(now - timedelta(hours=1), now, **keep)
    <Resolution.RAW: 'raw'>
    >>> choose_resolution(now - timedelta(days=2), now, **keep)
    <Resolution.MINUTE: '1m'>
    >>> choose_resolution(now - timedelta(days=20, hours=1), now - timedelta(days=20), **keep)
    <Resolution.MINUTE: '1m'>
    >>> choose_resolution(now - timedelta(days=90), now, **keep)
    <Resolution.HOUR: '1h'>
    """
    span = end - start
    if span <= RAW_MAX_SPAN and start >= now - raw_keep:
        return Resolution.RAW
    if span <= MINUTE_MAX_SPAN and start >= now - minute_keep:
        return Resolution.MINUTE
    return Resolution.HOUR
