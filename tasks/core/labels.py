"""Label sets: validation and the canonical, order-independent form of a series' identity."""

import json
import re
from collections.abc import Mapping

METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


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

    >>> label_set_problem("cpu usage", {})
    "metric name 'cpu usage' must match [a-zA-Z_:][a-zA-Z0-9_:]*"
    """
    if not isinstance(name, str) or not METRIC_NAME_RE.match(name):
        return f"metric name {name!r} must match [a-zA-Z_:][a-zA-Z0-9_:]*"
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_NAME_RE.match(key) or key.startswith("__"):
            return f"label name {key!r} must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"
        if not isinstance(value, str):
            return f"label {key!r} has a {type(value).__name__} value; label values are strings"
    return None
