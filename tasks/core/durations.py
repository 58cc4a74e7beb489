"""Durations written the way operators write them: ``500ms``, ``30s``, ``5m``, ``1h30m``, ``7d``."""

import re
from datetime import timedelta

_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Return the timedelta that ``text`` spells; raise ValueError naming the right form.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    compact = text.strip().replace(" ", "") if isinstance(text, str) else ""
    parts = list(_PART_RE.finditer(compact))
    if not compact or "".join(p.group() for p in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 5m, 1h30m or 7d")
    seconds = sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts)
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
