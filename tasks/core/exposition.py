"""Parse the Prometheus text exposition format into samples, one problem per bad line.

Counters, gauges, histograms (``_bucket``/``_sum``/``_count``) and summaries (quantiles,
``_sum``/``_count``) all become plain series; the family's ``# TYPE`` decides whether a
series is a counter (cumulative, read as a rate) or a gauge.
"""

import re
from dataclasses import dataclass, field

from tasks.core.labels import METRIC_NAME_RE

_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})')
_UNESCAPE_RE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}
_CUMULATIVE_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


@dataclass(frozen=True, slots=True)
class ParsedSample:
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


def parse_exposition(text: str) -> Exposition:
    """Read a page in the Prometheus text format; keep going past bad lines.

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
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.isspace():
            continue
        if line[0] == "#":
            parts = line.split(None, 3)
            if len(parts) == 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3].strip()
                kinds.clear()
            continue
        try:
            name, labels, value, ts = _parse_line(line)
        except ValueError as exc:
            out.problems.append(LineProblem(number, line, str(exc)))
            continue
        kind = kinds.get(name)
        if kind is None:
            kind = kinds[name] = kind_of(name, types)
        out.samples.append(ParsedSample(name, labels, value, ts, kind, number))
    return out


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


def _parse_line(line: str) -> tuple[str, dict[str, str], float, int | None]:
    brace = line.find("{")
    if brace == -1:
        name, *rest = line.split()
        labels: dict[str, str] = {}
    else:
        name = line[:brace].strip()
        end, labels = _parse_labels(line, brace + 1)
        rest = line[end:].split()
    if not METRIC_NAME_RE.match(name):
        raise ValueError(f"metric name {name!r} must match [a-zA-Z_:][a-zA-Z0-9_:]*")
    if not rest:
        raise ValueError("no value after the metric name")
    if len(rest) > 2:
        raise ValueError(f"expected a value and an optional timestamp, got {' '.join(rest)!r}")
    value = _parse_value(rest[0])
    if len(rest) == 1:
        return name, labels, value, None
    try:
        return name, labels, value, int(rest[1])
    except ValueError:
        raise ValueError(f"timestamp {rest[1]!r} is not whole milliseconds") from None


def _parse_value(text: str) -> float:
    try:
        if "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        if text[0].isalpha() and text.lower() not in ("nan", "inf"):
            raise ValueError(f"expected a value after the metric name, got {text!r}") from None
        raise ValueError(f"value {text!r} is not a number") from None


def _parse_labels(line: str, pos: int) -> tuple[int, dict[str, str]]:
    """Read ``name="value",…}`` from ``pos``; return the index after ``}`` and the labels."""
    labels: dict[str, str] = {}
    if line[pos:].lstrip().startswith("}"):
        return line.index("}", pos) + 1, labels
    while True:
        match = _LABEL_RE.match(line, pos)
        if match is None:
            raise ValueError(f"cannot read the labels from column {pos + 1}")
        name, value, sep = match.groups()
        if "\\" in value:
            value = _UNESCAPE_RE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(0)), value)
        if name in labels:
            raise ValueError(f"label {name!r} appears twice")
        labels[name] = value
        pos = match.end()
        if sep == "}":
            return pos, labels
        rest = line[pos:].lstrip()
        if rest.startswith("}"):  # trailing comma
            return line.index("}", pos) + 1, labels
