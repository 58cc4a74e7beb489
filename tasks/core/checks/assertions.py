"""Judge what a probe observed against what its check expects; each returns its problems.

An empty list means the check passes. Probes (tasks/checks) only observe; these decide.
"""

import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class HttpAnswer:
    """What an HTTP probe saw."""

    status: int
    body: str
    latency_ms: float
    cert_not_after: datetime | None = None


def judge_http(
    answer: HttpAnswer,
    *,
    expect_status: Sequence[int],
    max_latency_ms: float | None = None,
    body_contains: str | None = None,
    json_fields: Mapping[str, Any] | None = None,
    min_cert_days: float | None = None,
    now: datetime,
) -> list[str]:
    """Return the HTTP answer's problems.

    >>> from datetime import UTC
    >>> judge_http(HttpAnswer(503, "", 12.0), expect_status=[200], now=datetime.now(UTC))
    ['status 503, expected 200']
    """
    problems = []
    if answer.status not in expect_status:
        wanted = ", ".join(map(str, expect_status))
        problems.append(f"status {answer.status}, expected {wanted}")
    if max_latency_ms is not None and answer.latency_ms > max_latency_ms:
        problems.append(f"took {answer.latency_ms:.0f} ms, limit {max_latency_ms:.0f} ms")
    if body_contains is not None and body_contains not in answer.body:
        problems.append(f"body does not contain {body_contains!r}")
    if json_fields:
        problems.extend(judge_json(answer.body, json_fields))
    if min_cert_days is not None:
        problems.extend(judge_cert(answer.cert_not_after, min_cert_days, now=now))
    return problems


def judge_json(body: str, fields: Mapping[str, Any]) -> list[str]:
    """Return which dotted ``fields`` of the JSON ``body`` differ from their expected values.

    >>> judge_json('{"db": {"ok": true}, "items": [{"n": 2}]}', {"db.ok": True, "items.0.n": 3})
    ['items.0.n is 2, expected 3']
    """
    try:
        document = json.loads(body)
    except ValueError:
        return [f"body is not JSON: {body[:60]!r}"]
    problems = []
    for path, expected in fields.items():
        found, value = json_field(document, path)
        if not found:
            problems.append(f"{path} is missing")
        elif value != expected or isinstance(value, bool) != isinstance(expected, bool):
            problems.append(f"{path} is {json.dumps(value)}, expected {json.dumps(expected)}")
    return problems


def json_field(document: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path (object keys and list indexes) into ``document``."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def judge_cert(not_after: datetime | None, min_days: float, *, now: datetime) -> list[str]:
    """Return a problem when the certificate expires in fewer than ``min_days`` days."""
    if not_after is None:
        return ["no TLS certificate seen (is the URL https://?)"]
    days_left = (not_after - now).total_seconds() / 86400
    if days_left < min_days:
        return [
            f"certificate expires in {days_left:.1f} days (at {not_after:%Y-%m-%d}), "
            f"minimum {min_days:g}"
        ]
    return []


def judge_command(
    exit_code: int,
    output: str,
    *,
    expect_exit: int,
    output_contains: str | None = None,
    output_matches: str | None = None,
) -> list[str]:
    """Return the problems of a finished command.

    >>> judge_command(1, "boom", expect_exit=0, output_contains="ok")
    ["exit code 1, expected 0: 'boom'", "output does not contain 'ok'"]
    """
    problems = []
    if exit_code != expect_exit:
        problems.append(f"exit code {exit_code}, expected {expect_exit}: {output[-200:]!r}")
    if output_contains is not None and output_contains not in output:
        problems.append(f"output does not contain {output_contains!r}")
    if output_matches is not None and not re.search(output_matches, output):
        problems.append(f"output does not match /{output_matches}/")
    return problems


def judge_processes(
    count: int,
    cpu_percent: float,
    rss_bytes: int,
    *,
    min_count: int,
    max_count: int | None = None,
    max_cpu_percent: float | None = None,
    max_rss_bytes: int | None = None,
) -> list[str]:
    """Return the problems of the matching processes' count, summed CPU and memory.

    >>> judge_processes(0, 0.0, 0, min_count=1)
    ['0 processes running, expected at least 1']
    """
    problems = []
    if count < min_count:
        problems.append(f"{count} processes running, expected at least {min_count}")
    if max_count is not None and count > max_count:
        problems.append(f"{count} processes running, expected at most {max_count}")
    if max_cpu_percent is not None and cpu_percent > max_cpu_percent:
        problems.append(f"CPU {cpu_percent:.1f}% above {max_cpu_percent:g}%")
    if max_rss_bytes is not None and rss_bytes > max_rss_bytes:
        problems.append(f"memory {rss_bytes} bytes above {max_rss_bytes}")
    return problems


def judge_value(actual: Any, expected: Any) -> list[str]:
    """Compare a query's value with the expected one (numbers numerically, else as text).

    >>> judge_value(1, True), judge_value("3.0", 3), judge_value("a", "b")
    ([], [], ["value 'a', expected 'b'"])
    """
    if expected is None:
        return []
    if isinstance(expected, bool | int | float) and not isinstance(expected, str):
        try:
            if float(actual) == float(expected):
                return []
        except (TypeError, ValueError):
            pass
    elif str(actual) == str(expected):
        return []
    return [f"value {actual!r}, expected {expected!r}"]


def judge_series(
    latest: Sequence[tuple[str, datetime, float]],
    *,
    op: str,
    threshold: float,
    max_age_s: float,
    now: datetime,
) -> list[str]:
    """Judge the newest sample of each series (labels text, time, value) against ``op threshold``.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> judge_series([('{"host":"a"}', t, 0.95)], op="<", threshold=0.9, max_age_s=60, now=t)
    ['{"host":"a"} = 0.95, expected < 0.9']
    """
    if not latest:
        return ["no series matches the selector"]
    problems = []
    compare = COMPARISONS[op]
    for labels, at, value in latest:
        age = (now - at).total_seconds()
        if age > max_age_s:
            problems.append(f"{labels} is stale: newest sample {age:.0f} s old")
        elif not compare(value, threshold):
            problems.append(f"{labels} = {value:g}, expected {op} {threshold:g}")
    return problems
