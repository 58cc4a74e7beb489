"""Parse the Prometheus text exposition format into samples, one problem per bad line.

Counters, gauges, histograms (``_bucket``/``_sum``/``_count``) and summaries (quantiles,
``_sum``/``_count``) all become plain series; the family's ``# TYPE`` decides whether a
series is a counter (cumulative, read as a rate) or a gauge.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from models.vocabulary.labels import METRIC_NAME_RE

_PAIR = r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*'
_PAIR_RE = re.compile(_PAIR)
_ONE_PAIR = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"(?:[^"\\]|\\.)*"\s*'
_BLOCK_RE = re.compile(rf"(?:{_ONE_PAIR},)*(?:{_ONE_PAIR})?\s*")  # the whole label block
_LINE_RE = re.compile(  # a whole well-formed sample line, validated in one C call
    rf"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{{((?:{_ONE_PAIR},)*(?:{_ONE_PAIR})?\s*)\}})?"
    r"\s+([^\s_]+)(?:\s+(-?\d+))?\s*$"
)
_UNESCAPE_RE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CUMULATIVE_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


class ParsedSample(NamedTuple):
    """One exposed value; ``timestamp_ms`` is None when the page gave no timestamp."""

    name: str
    labels: dict[str, str]
    value: float
    timestamp_ms: int | None
    kind: str  # "counter" or "gauge"
    line: int = 0  # where it was on the page


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line that could not be read, and why."""

    line: int
    text: str
    reason: str


@dataclass
class Exposition:
    """What a page held: the samples read and the lines that were not."""

    samples: list[ParsedSample] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


def parse_exposition(
    text: str,
    label_cache: dict[str, dict[str, str]] | None = None,
    relabel: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> Exposition:
    """Read a page in the Prometheus text format; keep going past bad lines.

    ``label_cache`` (label block text -> labels), kept by a caller between pages of the
    same target, saves re-reading label sets that do not change; the label dicts it hands
    out are shared, so treat them as read-only. ``relabel`` turns each label set read
    into the one to keep (e.g. adding ``job``); a cache belongs to one ``relabel``.

    >>> page = '# TYPE hits counter\\nhits_total{path="/"} 3 1700000000000\\nbad line\\n'
    >>> out = parse_exposition(page)
    >>> out.samples[0]
    ParsedSample(name='hits_total', labels={'path': '/'}, value=3.0, \
timestamp_ms=1700000000000, kind='counter', line=2)
    >>> out.problems[0].line, out.problems[0].reason
    (3, "expected a value after the metric name, got 'line'")
    """
    out = Exposition()
    types: dict[str, str] = {}
    kinds: dict[str, str] = {}
    cache = {} if label_cache is None else label_cache
    names: set[str] = set()  # metric names already read from a well-formed line
    match_line, append = _LINE_RE.match, out.samples.append
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line[0] == "#" or line.isspace():
            if line.startswith("# TYPE "):
                parts = line.split(None, 3)
                if len(parts) == 4:
                    types[parts[2]] = parts[3].strip()
                    kinds.clear()
            continue
        seen = _seen_shape(line, names, cache)
        try:
            if seen is None:
                found = match_line(line)
                if found is None:
                    raise ValueError(_why_not(line))
                name, block, raw_value, raw_ts = found.groups()
                labels = cache.get(block or "")
                if labels is None:
                    labels = _parse_labels(block) if block else {}
                    labels = cache[block or ""] = relabel(labels) if relabel else labels
            else:
                name, labels, raw_value, raw_ts = seen
            try:
                value = float(raw_value)  # both paths already refused underscores
            except ValueError:
                value = _parse_value(raw_value)  # raises, saying what is wrong
            ts_ms = None if raw_ts is None else _parse_timestamp(raw_ts)
        except ValueError as exc:
            out.problems.append(LineProblem(number, line, str(exc)))
            continue
        names.add(name)
        kind = kinds.get(name)
        if kind is None:
            kind = kinds[name] = kind_of(name, types)
        append(ParsedSample(name, labels, value, ts_ms, kind, number))
    return out


def _parse_timestamp(raw: str) -> int:
    """Read a timestamp in milliseconds, or raise ValueError when it needs more than 64 bits.

    >>> _parse_timestamp("-1" + "0" * 19)
    Traceback (most recent call last):
    ValueError: timestamp -10000000000000000000 does not fit in 64 bits (milliseconds since 1970)
    """
    ts_ms = int(raw) if len(raw) <= 20 else None  # no 5,000-digit integers to convert
    if ts_ms is None or not INT64_MIN <= ts_ms <= INT64_MAX:
        shown = raw if len(raw) <= 24 else f"{raw[:12]}...({len(raw)} digits)"
        raise ValueError(f"timestamp {shown} does not fit in 64 bits (milliseconds since 1970)")
    return ts_ms


def _seen_shape(
    line: str, names: set[str], cache: dict[str, dict[str, str]]
) -> tuple[str, dict[str, str], str, str | None] | None:
    """Split a line whose name and label block were already read, without the line pattern.

    Returns (name, labels, raw value, raw timestamp), or None when the line needs the full
    pattern: anything new or unusual goes the slow, validating way.
    """
    brace = line.find("{")
    if brace == -1:
        name, _, rest = line.partition(" ")
        block = ""
    else:
        close = line.rfind("}")
        if close < brace:
            return None
        name, block, rest = line[:brace], line[brace + 1 : close], line[close + 1 :]
        if not rest[:1].isspace():
            return None
    labels = cache.get(block)
    if labels is None or name not in names:
        return None
    fields = rest.split()
    if not 1 <= len(fields) <= 2 or "_" in fields[0]:
        return None
    raw_ts = fields[1] if len(fields) == 2 else None
    if raw_ts is not None:
        digits = raw_ts[1:] if raw_ts[:1] == "-" else raw_ts
        if not (digits.isascii() and digits.isdigit()):
            return None
    return name, labels, fields[0], raw_ts


def kind_of(name: str, types: dict[str, str]) -> str:
    """Return ``counter`` or ``gauge`` for series ``name`` given the page's ``# TYPE`` lines.

    >>> kind_of("rpc_seconds_bucket", {"rpc_seconds": "histogram"})
    'counter'
    >>> kind_of("rpc_seconds", {"rpc_seconds": "summary"})
    'gauge'
    """
    declared = types.get(name)
    if declared is None:
        for suffix in _CUMULATIVE_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in types:
                family = types[name[: -len(suffix)]]
                return "counter" if family in ("counter", "histogram", "summary") else "gauge"
        return "gauge"
    return "counter" if declared in ("counter", "histogram") else "gauge"


def _why_not(line: str) -> str:
    """Return why a line that is not a well-formed sample is wrong."""
    if "{" in line:
        if "}" not in line:
            return "the labels are not closed with }"
        head, _, tail = line.rpartition("}")
        name, _, block = head.partition("{")
        name = name.strip()
        if not _BLOCK_RE.fullmatch(block):
            return f"cannot read the labels {{{block}}}"
        rest = tail.split()
    else:
        name, *rest = line.split()
    if not METRIC_NAME_RE.match(name):
        return f"metric name {name!r} must match [a-zA-Z_:][a-zA-Z0-9_:]*"
    if not rest:
        return "no value after the metric name"
    if len(rest) > 2:
        return f"expected a value and an optional timestamp, got {' '.join(rest)!r}"
    try:
        _parse_value(rest[0])
    except ValueError as exc:
        return str(exc)
    if len(rest) == 2:
        return f"timestamp {rest[1]!r} is not whole milliseconds"
    return "cannot read this line as: name{labels} value [timestamp]"


def _parse_value(text: str) -> float:
    try:
        if "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        if text[0].isalpha() and text.lower() not in ("nan", "inf"):
            raise ValueError(f"expected a value after the metric name, got {text!r}") from None
        raise ValueError(f"value {text!r} is not a number") from None


def _parse_labels(block: str) -> dict[str, str]:
    """Read a validated ``name="value",…`` block (the text between the braces) into a dict."""
    pairs = _PAIR_RE.findall(block)
    labels = dict(pairs)
    if len(labels) != len(pairs):
        names = [n for n, _ in pairs]
        raise ValueError(f"label {next(n for n in names if names.count(n) > 1)!r} appears twice")
    if "\\" in block:
        for name, value in labels.items():
            labels[name] = _UNESCAPE_RE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(0)), value)
    return labels
