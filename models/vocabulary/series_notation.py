"""promtool's expanding notation for test series: ``"50 60 90x5 70"``, ``"1+1x3"``, ``"_x2"``."""

import re

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RUN = re.compile(rf"(?P<start>{_NUMBER})(?:(?P<sign>[-+])(?P<step>{_NUMBER}))?x(?P<n>\d+)")
_GAPS = re.compile(r"_x(?P<n>\d+)")
_PLAIN = re.compile(_NUMBER)


def expand_values(text: str) -> list[float | None]:
    """Expand a values string; None is a missing sample (``_``).

    Like promtool: ``a+bxn`` is the n+1 values ``a, a+b, …, a+n*b``; ``a-bxn`` goes down;
    ``axn`` repeats ``a`` n+1 times; ``_`` is one missing sample and ``_xn`` n of them.

    >>> expand_values("50 90x2 1+1x3 5-2x1 _ _x2")
    [50.0, 90.0, 90.0, 90.0, 1.0, 2.0, 3.0, 4.0, 5.0, 3.0, None, None, None]

    Raises:
        ValueError: naming the first token it cannot read.
    """
    out: list[float | None] = []
    for token in text.split():
        out += _expand(token)
    if not out:
        raise ValueError("values is empty; write numbers like '50 60 90x5 70'")
    return out


def _expand(token: str) -> list[float | None]:
    if token == "_":
        return [None]
    if gaps := _GAPS.fullmatch(token):
        return [None] * int(gaps["n"])
    if run := _RUN.fullmatch(token):
        start = float(run["start"])
        step = float(run["step"] or 0) * (-1 if run["sign"] == "-" else 1)
        return [start + i * step for i in range(int(run["n"]) + 1)]
    if _PLAIN.fullmatch(token):
        return [float(token)]
    raise ValueError(
        f"{token!r} is not a value; write a number, _ (no sample), 90x5 (90 six times), "
        "1+1x3 (1 2 3 4) or _x3 (three missing)"
    )
