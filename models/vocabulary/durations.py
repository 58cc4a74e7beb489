"""Durations written the way operators write them: ``500ms``, ``30s``, ``5m``, ``1h30m``, ``7d``."""

import re
from datetime import timedelta

_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_TEXT = 64  # longer text is no duration; the cap also keeps the regex scan linear
MAX_DURATION = timedelta(days=36_500)
"""The longest duration Vigil accepts (100 years): longer ones overflow dates and clocks."""


def parse_duration(text: str) -> timedelta:
    """Return the timedelta that ``text`` spells; raise ValueError naming the right form.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("99999999999999d")
    Traceback (most recent call last):
    ...
    ValueError: '99999999999999d' is too long; the longest duration is 36500d (100 years)
    """
    compact = text.strip().replace(" ", "") if isinstance(text, str) else ""
    if len(compact) > _MAX_TEXT:
        raise ValueError(f"{text[:_MAX_TEXT]!r}… is not a duration; write it like 30s, 5m or 1h")
    parts = list(_PART_RE.finditer(compact))
    if not compact or "".join(p.group() for p in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 5m, 1h30m or 7d")
    return seconds_to_duration(
        sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts), shown=text
    )


def seconds_to_duration(seconds: float, *, shown: object = None) -> timedelta:
    """Return ``seconds`` as a timedelta; refuse NaN, negative and absurdly long ones.

    >>> seconds_to_duration(90)
    datetime.timedelta(seconds=90)
    >>> seconds_to_duration(float("inf"))
    Traceback (most recent call last):
    ...
    ValueError: inf is too long; the longest duration is 36500d (100 years)
    """
    shown = seconds if shown is None else shown
    if seconds != seconds:  # NaN (math.isnan would overflow on a huge int)
        raise ValueError(f"{shown!r} is not a duration; write it like 30s, 5m or 1h")
    if seconds < 0:
        raise ValueError(f"{shown!r} is negative; a duration is 0s or more")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{shown!r} is too long; the longest duration is 36500d (100 years)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Return the shortest spelling of ``delta`` that parse_duration reads back.

    >>> format_duration(timedelta(minutes=90))
    '1h30m'
    """
    millis = round(delta.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    out = []
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = round(_UNIT_SECONDS[unit] * 1000)
        count, millis = divmod(millis, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
