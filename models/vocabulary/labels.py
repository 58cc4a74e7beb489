"""Label sets: validation and the canonical, order-independent form of a series' identity."""

import json
import re
import reprlib
from collections.abc import Mapping

METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Bounds of a series' identity. series.name is VARCHAR(255), and PostgreSQL refuses a
# unique-index row (name + canonical labels, uq_series_name_labels) over 2704 bytes.
MAX_METRIC_NAME_CHARS = 255
MAX_LABEL_COUNT = 64
MAX_LABEL_VALUE_CHARS = 1024
MAX_LABEL_SET_BYTES = 2048  # the canonical text (UTF-8); with the name, well inside 2704
_MAX_BYTES_PER_CHAR = 6  # in the canonical text: a control character becomes \u00XX


def canonical_labels(labels: Mapping[str, str]) -> str:
    """Return the canonical text of a label set: compact JSON with sorted keys.

    Two label sets that differ only in order have the same canonical text.

    >>> canonical_labels({"b": "2", "a": "1"})
    '{"a":"1","b":"2"}'
    """
    return json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False)


def parse_canonical(text: str) -> dict[str, str]:
    """Return the label dict stored as canonical text."""
    return json.loads(text)


def label_set_problem(name: str, labels: Mapping[str, str]) -> str | None:
    """Return why ``name`` with ``labels`` cannot identify a series, or None when it can.

    Long texts are shortened in the reason, so a reason stays small whatever was sent.

    >>> label_set_problem("cpu usage", {})
    "metric name 'cpu usage' must match [a-zA-Z_:][a-zA-Z0-9_:]*"
    >>> label_set_problem("cpu", {"core": "x" * 2000})
    "label 'core' has a value of 2000 characters; at most 1024 are allowed"
    """
    if not isinstance(name, str) or not METRIC_NAME_RE.match(name):
        return f"metric name {reprlib.repr(name)} must match [a-zA-Z_:][a-zA-Z0-9_:]*"
    if len(name) > MAX_METRIC_NAME_CHARS:
        return (
            f"metric name {reprlib.repr(name)} has {len(name)} characters; "
            f"at most {MAX_METRIC_NAME_CHARS} are allowed"
        )
    if len(labels) > MAX_LABEL_COUNT:
        return f"{len(labels)} labels; a series has at most {MAX_LABEL_COUNT}"
    chars = 0
    for key, value in labels.items():
        problem = _label_problem(key, value)
        if problem:
            return problem
        chars += len(key) + len(value) + 6  # "k":"v",
    if chars * _MAX_BYTES_PER_CHAR > MAX_LABEL_SET_BYTES:  # only then measure it exactly
        size = len(canonical_labels(labels).encode())
        if size > MAX_LABEL_SET_BYTES:
            return (
                f"the labels take {size} bytes; a series' labels take at most {MAX_LABEL_SET_BYTES}"
            )
    return None


def _label_problem(key: str, value: str) -> str | None:
    """Say what is wrong with one label; long texts are shortened in the reason."""
    if not isinstance(key, str) or not LABEL_NAME_RE.match(key) or key.startswith("__"):
        shown = reprlib.repr(key)
        return f"label name {shown} must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"
    if not isinstance(value, str):
        kind = type(value).__name__
        return f"label {reprlib.repr(key)} has a {kind} value; label values are strings"
    if len(value) > MAX_LABEL_VALUE_CHARS:
        return (
            f"label {reprlib.repr(key)} has a value of {len(value)} characters; "
            f"at most {MAX_LABEL_VALUE_CHARS} are allowed"
        )
    if not value.isascii() and not _is_encodable(value):
        return f"label {reprlib.repr(key)} has a value that is not valid Unicode (a lone surrogate)"
    return None


def _is_encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
