"""The procedures section of vigil.yaml."""

from datetime import timedelta

import pytest

from models.config import load_config, parse_config
from models.config.recovery import ClearStep, ParallelGroup, ProcessStep, TimeoutDecision
from models.errors import ConfigError

EXAMPLE = """
procedures:
  - name: restart-web
    description: Restart the web service and clear its cache.
    triggers: [WebDown]
    approval: required
    approval_timeout: 10m
    preconditions:
      - {http: "{address}/health", expect: failing}
    steps:
      - type: parallel
        steps:
          - {type: clear, paths: ["/var/cache/web/{target}"]}
          - type: http
            url: "http://lb/drain/{target}"
            json: {why: "{labels.alertname}"}
      - type: process
        pidfile: /run/web.pid
        start: [/usr/bin/web, --port, "8080"]
        retries: 2
        retry_delay: 2s
    verify: {http: "{address}/health", within: 30s}
    limits: {max_runs: 2, window: 1h, cooldown: 10m, disable_after_failures: 3}
"""


def test_a_full_procedure_parses_with_its_defaults():
    (proc,) = parse_config(EXAMPLE).procedures
    group, restart = proc.steps
    assert isinstance(group, ParallelGroup) and isinstance(group.steps[0], ClearStep)
    assert isinstance(restart, ProcessStep) and restart.action == "restart"
    assert restart.retry_delay == timedelta(seconds=2) and restart.grace == timedelta(seconds=5)
    assert proc.on_approval_timeout == TimeoutDecision.REJECT
    assert proc.verify is not None and proc.verify.within == timedelta(seconds=30)
    assert proc.limits.cooldown == timedelta(minutes=10)


def test_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "procedures:\n"
        "  - name: p\n"
        "    steps:\n"
        "      - type: command\n"
        "        argv: [echo]\n"
        "        retries: many\n"
        "      - type: reboot\n"
        "    limits:\n"
        "      cooldown: soon\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines() == [
        f"{path}:6: procedures[0].steps[0].retries: Input should be a valid integer, "
        "unable to parse string as an integer (got 'many')",
        f"{path}:7: procedures[0].steps[1]: Input tag 'reboot' found using 'type' does not "
        "match any of the expected tags: 'command', 'process', 'systemd', 'http', 'clear', "
        "'scale', 'python', 'wait', 'probe', 'parallel' (got {'type': 'reboot'})",
        f"{path}:9: procedures[0].limits.cooldown: 'soon' is not a duration; "
        "write it like 30s, 5m, 1h30m or 7d",
    ]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{type: process, pidfile: /p}", "action restart needs start"),
        ("{type: scale, replicas: 2}", "exactly one of argv or url"),
        ("{type: probe, probe: {http: 'http://x', tcp: 'x:1'}}", "exactly one of http, tcp"),
        ("{type: command, argv: []}", "at least 1 item"),
    ],
)
def test_incomplete_steps_are_refused_with_a_reason(step, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(f"procedures:\n  - name: p\n    steps:\n      - {step}\n")
