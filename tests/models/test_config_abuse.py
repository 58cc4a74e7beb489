"""`vigil validate` on bad and hostile files: a located error (exit 2) or success, never a
traceback or a hang. The fuzz cases come from tests/models/hostile_configs.py (fixed seed)."""

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.models.hostile_configs import FULL, hostile_configs
from vigil.cli import app

runner = CliRunner()
HANG_GUARD_S = 5.0  # not a speed test: a case using this much CPU is hanging (or quadratic)
VARIANTS = list(hostile_configs())
HEAVY = {"many-", "check-chain", "check-cycle", "long-", "over-", "wide-alias", "flow-nesting-1"}


def _validate(tmp_path: Path, raw: bytes) -> tuple[int, str]:
    """Run `vigil validate` in-process; return (exit code, stderr), failing on any misstep."""
    problem, code, err = _misstep(tmp_path / "vigil.yaml", raw)
    assert problem is None, problem
    return code, err


def _misstep(path: Path, raw: bytes) -> tuple[str | None, int, str]:
    """Validate ``raw`` at ``path``; say what went wrong: a traceback, a hang, an unlocated line."""
    path.write_bytes(raw)
    started = time.process_time()  # CPU time: other tests' load on the machine does not count
    result = runner.invoke(app, ["validate", str(path)])
    elapsed = time.process_time() - started
    problem = None
    if elapsed > HANG_GUARD_S:
        problem = f"took {elapsed:.1f}s of CPU: it hangs"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        problem = f"traceback: {result.exception!r}"
    elif result.exit_code not in (0, 2):
        problem = f"exit code {result.exit_code}: {result.output[:300]}"
    elif result.exit_code == 2:
        located = re.compile(rf"^{re.escape(str(path))}:(\d+: |\s*… and [\d,]+ more problems)")
        lines = result.stderr.splitlines()
        if not lines or not all(located.match(line) for line in lines):
            problem = f"an error without file:line: {result.stderr[:300]}"
    return problem, result.exit_code, result.stderr


def _missteps(tmp_path: Path, variants: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    path = tmp_path / "vigil.yaml"
    found = [(name, _misstep(path, raw)[0]) for name, raw in variants]
    return [(name, problem) for name, problem in found if problem is not None]


def _is_heavy(name: str) -> bool:
    return any(name[4:].startswith(prefix) for prefix in HEAVY)


def test_the_generator_makes_hundreds_of_distinct_variants_the_same_each_time():
    assert len({raw for _, raw in VARIANTS}) == len(VARIANTS) >= 217
    assert list(hostile_configs()) == VARIANTS


def test_every_hostile_variant_is_a_located_error_or_valid(tmp_path):
    light = [(name, raw) for name, raw in VARIANTS if not _is_heavy(name)]
    assert len(light) >= 217
    assert _missteps(tmp_path, light) == []


@pytest.mark.slow
def test_every_large_hostile_variant_is_a_located_error_or_valid(tmp_path):
    heavy = [(name, raw) for name, raw in VARIANTS if _is_heavy(name)]
    assert len(heavy) >= 10
    assert _missteps(tmp_path, heavy) == []


def test_the_full_seed_config_is_valid(tmp_path):
    assert _validate(tmp_path, FULL.encode()) == (0, "")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99999999999999d", "'99999999999999d' is too long; the longest duration is 36500d"),
        (".inf", "inf is too long"),
        ("-1.0e+20", "-1e+20 is negative"),
        ("-1e20", "'-1e20' is not a duration"),
        ("1" + "0" * 30, "is too long; the longest duration is 36500d"),
        (".nan", "nan is not a duration"),
    ],
)
def test_absurd_durations_are_refused_on_their_line(tmp_path, value, message):
    code, err = _validate(
        tmp_path, f"alerting:\n  retry_backoff: 5s\n  stale_after: {value}\n".encode()
    )
    assert code == 2 and ":3: alerting.stale_after: " in err and message in err


@pytest.mark.parametrize(
    ("raw", "line", "message"),
    [
        (b"targets:\n  - name: a\n  - name: \xff\xfe\n", 3, "byte 0xff is not UTF-8 text"),
        (b"targets:\n  - name: a\x00b\n", 2, "character U+0000 is not allowed"),
        (b"targets:\n\n  - name: a\x07b\n", 3, "character U+0007 is not allowed"),
        (b'targets:\n  - name: "a\\0b"\n', 2, "control character U+0000 in a string"),
        (b"labels: " + b"[" * 100 + b"]" * 100 + b"\n", 1, "nested more than 64 levels deep"),
        (b"labels: &a [*a]\n", 1, "an alias refers to the collection that contains it"),
        (b"health:\n  max_concurrency: " + b"9" * 5000 + b"\n", 2, "has 5,000 characters"),
        (b"targets:\n  - name: a\ntargets:\n  - name: b\n", 3, "key 'targets' is written twice"),
    ],
)
def test_unreadable_files_are_refused_on_their_line(tmp_path, raw, line, message):
    code, err = _validate(tmp_path, raw)
    assert code == 2 and f"vigil.yaml:{line}: " in err and message in err


def test_a_duplicate_key_names_both_lines(tmp_path):
    raw = b"alerting:\n  stale_after: 5m\n  retry_backoff: 5s\n  stale_after: 10m\n"
    code, err = _validate(tmp_path, raw)
    assert code == 2
    assert "vigil.yaml:4: key 'stale_after' is written twice (lines 2 and 4)" in err


def test_a_billion_laughs_is_refused_at_once(tmp_path):
    (laughs,) = [raw for name, raw in VARIANTS if name.endswith("-billion-laughs")]
    code, err = _validate(tmp_path, laughs)
    assert code == 2 and "more than 200,000 values once aliases expand" in err


def test_yaml_merge_keys_still_work_and_may_override(tmp_path):
    raw = (
        b"x-check: &check {type: tcp, target: db-1, host: 127.0.0.1, port: 5432}\n"
        b"checks:\n  - {<<: *check, name: a}\n  - {<<: *check, name: b, port: 6432}\n"
    )
    code, err = _validate(tmp_path, raw)
    assert code == 2 and "x-check: unknown field" in err  # the anchor's key itself is no section
    raw = b"checks:\n  - &c {name: a, type: tcp, target: t, host: h, port: 1}\n"
    raw += b"  - {<<: *c, name: b, port: 2}\n"
    assert _validate(tmp_path, raw) == (0, "")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "rules:\n  - {name: r, series: x, value: 1, procedure: nope}\n",
            2,
            "rules[0].procedure: unknown procedure 'nope'; known: none",
        ),
        (
            "targets:\n  - name: web-1\nprocedures:\n  - name: p\n    targets: [web-1, web-2]\n"
            "    steps: [{type: wait, duration: 1s}]\n",
            5,
            "procedures[0].targets: unknown target 'web-2'; known: web-1",
        ),
        (
            "procedures:\n  - name: p\n    steps:\n"
            "      - {type: command, argv: [echo, '{host}']}\n",
            4,
            "procedures[0].steps[0].argv[1]: unknown placeholder {host}",
        ),
        (
            "procedures:\n  - name: p\n    steps:\n      - type: http\n        url: http://h/x\n"
            "        json: {a: ['{labels.x}', '{replicas}']}\n",
            6,
            "unknown placeholder {replicas}",
        ),
        (
            "rules:\n  - name: r\n    series: x\n    value: 1\n"
            "    annotations: {summary: '{{ lables.host }} at {{ value }}'}\n",
            5,
            "rules[0].annotations.summary: unknown variable 'lables' in template",
        ),
    ],
)
def test_names_that_point_nowhere_are_refused(tmp_path, text, line, message):
    code, err = _validate(tmp_path, text.encode())
    assert code == 2 and f"vigil.yaml:{line}: " in err and message in err, err


def test_a_scale_step_may_use_replicas_and_braces_can_be_escaped(tmp_path):
    text = (
        "procedures:\n  - name: p\n    steps:\n"
        "      - {type: scale, replicas: 3, argv: [kubectl, scale, '--replicas={replicas}']}\n"
        "      - {type: command, argv: [echo, '{{literal}}', '{labels.x}']}\n"
    )
    assert _validate(tmp_path, text.encode()) == (0, "")


def test_thousands_of_problems_are_listed_as_the_first_fifty_and_a_count(tmp_path):
    raw = ("targets:\n" + "  - {name: '-bad'}\n" * 300).encode()
    code, err = _validate(tmp_path, raw)
    assert code == 2 and len(err.splitlines()) == 51 and "… and 250 more problems" in err
