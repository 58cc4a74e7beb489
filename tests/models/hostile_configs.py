"""A deterministic generator of hostile vigil.yaml files: mutations of two valid configs.

Each variant is ``(name, bytes)``. The seeds are deployments/vigil.example.yaml and FULL
below (every section, many durations and numbers). The mutations are what fuzzing and
abuse found or could find: bad scalars in every duration and number field, binary junk,
deep nesting, alias bombs and loops, huge numbers, truncation, duplicated or dropped lines,
type confusion, oversized files and pathological but well-formed sections.
"""

import random
import re
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path

import yaml

EXAMPLE = (Path(__file__).parents[2] / "deployments" / "vigil.example.yaml").read_text()

FULL = """\
version: 1
labels: {site: lab}
targets:
  - {name: web-1, kind: service, address: "http://127.0.0.1:8080", labels: {team: shop}}
  - {name: db-1, kind: host, depends_on: [web-1]}
collectors:
  host: {enabled: true, interval: 10s, target: web-1}
checks:
  - {name: db-port, type: tcp, target: db-1, host: 127.0.0.1, port: 5432, max_attempts: 1}
  - name: shop-health
    type: http
    target: web-1
    url: http://127.0.0.1:8080/health
    interval: 30s
    timeout: 5s
    retries: 2
    retry_backoff: 500ms
    max_latency: 500ms
    weight: 2.5
    depends_on: [db-port]
health:
  soft_down_score: 50
  score_interval: 1m
  max_concurrency: 200
rules:
  - name: HighCpu
    series: 'cpu_busy_ratio{host=~"web.*"}'
    aggregate: avg
    window: 5m
    value: 0.9
    for: 2m
    keep_firing_for: 5m
    severity: critical
    annotations: {summary: "{{ labels.host }} CPU at {{ value }}"}
    procedure: restart-web
    notify_delay: {firing: 2m, resolved: 5m}
  - {name: NoHeartbeat, kind: absence, series: 'heartbeat{job="etl"}', for: 5m}
  - {name: DiskGrowth, kind: rate_of_change, series: disk_used_ratio, window: 30m, per: 1h,
     value: 0.05}
channels:
  - {name: ops-mail, url: "mailtos://ops:${SMTP_PASSWORD}@mail.example.com?to=ops@example.com"}
  - {name: hook, url: "json://127.0.0.1:9/alerts"}
routes:
  - match: '{severity="critical"}'
    channels: [hook]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 4h
    repeat_factor: 2
    repeat_max: 1d
    escalation: pager
escalation_policies:
  - name: pager
    levels:
      - {after: 15m, channels: [ops-mail]}
inhibit_rules:
  - {source: '{severity="critical"}', target: '{severity="warning"}', equal: [target]}
alerting:
  flapping: {window: 30m, high: 50, low: 25, max_changes: 10}
  stale_after: 5m
  retry_backoff: 5s
  retry_backoff_max: 10m
procedures:
  - name: restart-web
    targets: [web-1]
    allowed_labels: {unit: [web.service]}
    approval_timeout: 15m
    preconditions:
      - {http: "{address}/health", expect: failing, timeout: 2s}
    steps:
      - {type: command, argv: [systemctl, restart, "{labels.unit}"], timeout: 30s, retries: 2}
      - {type: wait, duration: 1s}
      - {type: command, argv: [sh, -c, 'echo "$1"', sh, "{labels.alertname}"]}
    verify: {http: "{address}/health", within: 30s, interval: 1s}
    limits: {max_runs: 3, window: 1h, cooldown: 5m, disable_after_failures: 3}
maintenance_windows:
  - {name: nightly, match: '{target="db-1"}', schedule: "0 2 * * *", duration: 1h}
dashboard:
  refresh: 30s
  stale_after: 5m
"""

SEEDS = {"example": EXAMPLE, "full": FULL}

BAD_SCALARS = [
    "99999999999999d",
    ".inf",
    "-.inf",
    ".nan",
    "-1e20",
    "-1.0e20",
    "1" + "0" * 30,
    "9" * 5000,
    "1.0e400",
    "-5",
    "0x7fffffffffffffffffff",
    "1_000_000_000_000_000_000_000_000",
    "''",
    "[]",
    "{}",
    "~",
    "true",
    '"5 seconds"',
    '"\uff11\uff10s"',  # full-width digits
    '"' + "1" * 70 + 's"',
    '"' + "1" * 100_000 + '"',
    "2024-13-45",
    "!!binary AAAA",
    "190:20:30:10:99:99:99:99:99:99:99:99:99:99",
]

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_DURATION_RE = re.compile(r"^\d+(\.\d+)?(ms|s|m|h|d|w)+$")


def hostile_configs(seed: int = 22) -> Iterator[tuple[str, bytes]]:
    """Yield every hostile variant, the same ones on every run for a given ``seed``."""
    rng = random.Random(seed)
    seen: set[bytes] = set()
    for name, raw in _all(rng):
        if raw not in seen:  # random picks may repeat a variant: keep each file once
            seen.add(raw)
            yield f"{len(seen):03d}-{name}", raw


def _all(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for seed_name, text in SEEDS.items():
        yield from _bad_scalars(seed_name, text, rng)
        yield from _text_damage(seed_name, text, rng)
    yield from _structures()


def _bad_scalars(seed_name: str, text: str, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Each duration or number field gets a few bad scalars (all of them across fields)."""
    data = yaml.safe_load(text)
    fields = list(_numeric_leaves(data, ()))
    for index, path in enumerate(fields):
        for scalar in [BAD_SCALARS[(index + k) % len(BAD_SCALARS)] for k in range(3)]:
            yield f"{seed_name}:{_show(path)}={scalar[:20]}", _with(data, path, scalar)
    for scalar in BAD_SCALARS:  # and every bad scalar at least once at a random field
        path = rng.choice(fields)
        yield f"{seed_name}:random:{_show(path)}={scalar[:20]}", _with(data, path, scalar)


def _numeric_leaves(node: object, path: tuple) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numeric_leaves(value, (*path, index))
    elif _is_number_or_duration(node):
        yield path


def _is_number_or_duration(node: object) -> bool:
    if isinstance(node, str):
        return bool(_DURATION_RE.match(node))
    return isinstance(node, int | float) and not isinstance(node, bool)


def _with(data: object, path: tuple, raw: str) -> bytes:
    """``data`` dumped with the value at ``path`` replaced by the raw YAML text ``raw``."""
    marker = "VIGILMARKER"
    copy = deepcopy(data)
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = marker
    text = yaml.dump(copy, Dumper=_DUMPER, sort_keys=False, width=10**9)
    return text.replace(marker, raw).encode()


def _show(path: tuple) -> str:
    return ".".join(str(part) for part in path)


def _text_damage(seed_name: str, text: str, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    raw = text.encode()
    lines = text.splitlines(keepends=True)
    for cut in sorted(rng.sample(range(1, len(raw)), 12)):  # truncation, also mid-character
        yield f"{seed_name}:truncated@{cut}", raw[:cut]
    for junk in (b"\x00", b"\x07", b"\x1b[31m", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x7f"):
        at = rng.randrange(len(raw))
        yield f"{seed_name}:junk{junk!r}@{at}", raw[:at] + junk + raw[at:]
    yield f"{seed_name}:binary", bytes(rng.randrange(256) for _ in range(4096))
    yield f"{seed_name}:png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    yield f"{seed_name}:utf16", text.encode("utf-16")
    yield f"{seed_name}:escaped-nul", text.replace("web-1", '"web\\0-1"', 1).encode()
    yield f"{seed_name}:escaped-surrogate", text.replace("web-1", '"web\\ud800"', 1).encode()
    for _ in range(6):
        at = rng.randrange(len(lines))
        yield f"{seed_name}:dup-line@{at}", "".join(lines[: at + 1] + lines[at:]).encode()
        yield f"{seed_name}:drop-line@{at}", "".join(lines[:at] + lines[at + 1 :]).encode()
        yield (
            f"{seed_name}:indent@{at}",
            "".join([*lines[:at], " " + lines[at], *lines[at + 1 :]]).encode(),
        )
    for _ in range(6):
        at = rng.randrange(len(raw))
        byte = bytes([rng.randrange(32, 127)])
        yield f"{seed_name}:flip@{at}", raw[:at] + byte + raw[at + 1 :]
    yield f"{seed_name}:tabs", text.replace("  ", "\t").encode()
    yield f"{seed_name}:crlf", text.replace("\n", "\r\n").encode()
    yield f"{seed_name}:bom", b"\xef\xbb\xbf" + raw
    yield f"{seed_name}:two-documents", raw + b"\n---\n" + raw
    yield f"{seed_name}:doubled", raw + raw
    yield (
        f"{seed_name}:python-tag",
        text.replace("web-1", "!!python/object/apply:os.system [id]", 1).encode(),
    )
    yield f"{seed_name}:custom-tag", text.replace("web-1", "!vault abc", 1).encode()


def _structures() -> Iterator[tuple[str, bytes]]:
    """Hand-made pathological files: nesting, aliases, sizes, long chains, odd sections."""
    for depth in (10, 63, 65, 200, 1_000, 100_000):
        yield f"flow-nesting-{depth}", f"labels: {'[' * depth}{']' * depth}\n".encode()
        yield f"map-nesting-{depth}", f"labels: {'{a: ' * depth}1{'}' * depth}\n".encode()
    block = "".join(f"{'  ' * level}a:\n" for level in range(300)) + "  " * 300 + "x: 1\n"
    yield "block-nesting-300", block.encode()
    laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in "bcdefghi":
        prev = chr(ord(level) - 1)
        laughs += f"{level}: &{level} [{', '.join(['*' + prev] * 9)}]\n"
    yield "billion-laughs", laughs.encode()
    yield "billion-laughs-in-labels", ("labels:\n  x: " + laughs.replace("\n", "\n  ")).encode()
    yield "recursive-alias-list", b"labels: &a [*a]\n"
    yield "recursive-alias-map", b"labels: &a {x: *a}\n"
    yield "recursive-merge", b"labels: &a {<<: *a}\n"
    yield "alias-as-key", b"x: &k a\nlabels: {*k : v}\n"
    yield "unknown-alias", b"labels: *nowhere\n"
    wide = "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 1000) + "]\n"
    yield "wide-alias-1M", wide.encode()
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 500))
    yield "alias-chain-500", ("a0: &a0 [x]\n" + chain).encode()
    yield "huge-int-targets", ("targets: " + "9" * 5000 + "\n").encode()
    yield (
        "huge-int-port",
        (
            "checks:\n  - {name: c, type: tcp, target: t, host: h, port: " + "9" * 5000 + "}\n"
        ).encode(),
    )
    yield "over-512KiB", b"labels: {a: '" + b"x" * (1 << 20) + b"'}\n"
    yield "long-string-400k", b"labels: {a: '" + b"x" * 400_000 + b"'}\n"
    yield "long-duration-text", ("alerting: {stale_after: '" + "1" * 400_000 + "'}\n").encode()
    yield "long-key", ("labels: {" + "a" * 400_000 + ": x}\n").encode()
    yield (
        "many-targets",
        ("targets:\n" + "".join(f"  - {{name: t{i}}}\n" for i in range(12_000))).encode(),
    )
    yield "many-duplicate-targets", ("targets:\n" + "  - {name: t}\n" * 12_000).encode()
    yield "many-bad-targets", ("targets:\n" + "  - {name: '-bad'}\n" * 12_000).encode()
    deps = "".join(
        f"  - {{name: c{i}, type: tcp, target: t, host: h, port: 1, depends_on: [c{i + 1}]}}\n"
        for i in range(5_000)
    )
    yield (
        "check-chain-5000",
        (
            "checks:\n" + deps + "  - {name: c5000, type: tcp, target: t, host: h, port: 1}\n"
        ).encode(),
    )
    yield (
        "check-cycle-5000",
        (
            "checks:\n"
            + deps
            + "  - {name: c5000, type: tcp, target: t, host: h, port: 1, depends_on: [c0]}\n"
        ).encode(),
    )
    yield (
        "deep-template",
        (
            "rules:\n  - {name: r, series: x, value: 1, annotations: {s: '{{"
            + "(" * 5000
            + "1"
            + ")" * 5000
            + "}}'}}\n"
        ).encode(),
    )
    yield (
        "deep-selector",
        ("rules:\n  - {name: r, series: '" + "x{" * 5000 + "', value: 1}\n").encode(),
    )
    yield (
        "long-selector",
        ("rules:\n  - {name: r, series: 'x{a=\"" + "b" * 400_000 + "\"}', value: 1}\n").encode(),
    )
    yield (
        "deep-json-body",
        (
            "procedures:\n  - {name: p, steps: [{type: http, url: 'http://h', json: "
            + "[" * 60
            + "1"
            + "]" * 60
            + "}]}\n"
        ).encode(),
    )
    yield (
        "long-argv",
        (
            "procedures:\n  - {name: p, steps: [{type: command, argv: ["
            + ", ".join(["sh"] * 100_000)
            + "]}]}\n"
        ).encode(),
    )
    window = b"maintenance_windows:\n  - {name: w, match: '{}', "
    yield "bad-cron", window + b"schedule: '99 99 99 99 99', duration: 1h}\n"
    yield "bad-zone", window + b"schedule: '0 2 * * *', duration: 1h, timezone: '../etc/pw'}\n"
    yield (
        "year-zero",
        b"maintenance_windows:\n  - {name: w, match: '{}', start: 0000-01-01, end: 9999-12-31}\n",
    )
    yield "max-dates", window + b"start: 9999-12-31T23:59:59-23:59, end: 9999-12-31T23:59:59Z}\n"
    yield "unparseable-channel", b"channels:\n  - {name: c, url: 'foo://admin:hunter2@host'}\n"
    yield (
        "channel-long",
        ("channels:\n  - {name: c, url: 'json://" + "a" * 100_000 + "'}\n").encode(),
    )
    yield (
        "channel-many-urls",
        ("channels:\n  - {name: c, url: '" + ", ".join(["json://h"] * 2000) + "'}\n").encode(),
    )
    yield (
        "channel-apprise-raises",
        b'channels:\n  - {name: c, url: "dbus://X+mrDA@[Uq:HM=s?u\'.r"}\n',
    )
    step = b"procedures:\n  - {name: p, steps: [{type: command, argv: "
    yield "shell-template", step + b"[/bin/sh, -c, 'echo {labels.x}']}]}\n"
    yield (
        "program-template",
        b"procedures:\n  - {name: p, steps: [{type: command, argv: ['{labels.tool}']}]}\n",
    )
    yield (
        "unknown-placeholder",
        b"procedures:\n  - {name: p, steps: [{type: command, argv: [echo, '{nope}']}]}\n",
    )
    yield "scalar-top", b"42\n"
    yield "list-top", b"- a\n- b\n"
    yield "empty", b""
    yield "only-comments", b"# nothing\n"
    yield "null-sections", b"targets: ~\nrules: ~\nchecks: ~\n"
    yield "wrong-types", b"targets: {a: 1}\nrules: 5\nchecks: 'x'\nlabels: [1, 2]\n"
    for tagged in (
        "!!int labels",
        "!!int ''",
        "!!float x",
        "!!bool maybe",
        "!!timestamp 2024-13-45",
    ):
        yield f"explicit-tag-{tagged}", f"health: {{max_concurrency: {tagged}}}\n".encode()
    yield "set-tag", b"labels: !!set {a, b}\n"
    yield "omap-tag", b"labels: !!omap [{a: 1}]\n"
    yield "complex-key", b"? [a, b]\n: c\n"
