"""The checks: and health: sections: a wrong check gets file:line: field.path: message."""

import pytest

from models.config import load_config, parse_config
from models.config.checks import CommandCheck, HttpCheck
from models.errors import ConfigError

GOOD = """\
targets:
  - name: web
checks:
  - name: web-http
    type: http
    target: web
    url: https://127.0.0.1:8443/health
    json_fields: {status: ok}
    min_cert_days: 14
    max_latency: 500ms
  - name: web-tcp
    type: tcp
    target: web
    host: 127.0.0.1
    port: 8443
  - name: nightly
    type: command
    target: web
    argv: [/bin/true]
    depends_on: [web-tcp]
health:
  target_weights: {web: 2}
  maintenance:
    - name: patching
      start: 2026-11-24T02:00:00Z
      end: 2026-11-24T03:00:00Z
      targets: [web]
"""


def test_a_good_checks_section_loads_into_typed_checks():
    config = parse_config(GOOD)
    http, _, command = config.checks
    assert isinstance(http, HttpCheck) and isinstance(command, CommandCheck)
    assert http.max_latency.total_seconds() == 0.5
    assert http.component_name == "web-http"
    assert command.depends_on == ["web-tcp"]
    assert config.health.maintenance[0].covers("nightly", "web", config.health.maintenance[0].start)


def test_a_wrong_check_field_names_file_line_and_path(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(GOOD.replace("    port: 8443\n", "    port: 99999\n"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:15: checks[1].port: Input should be less than or equal to 65535 (got 99999)"
    )


def test_an_unknown_check_type_is_located():
    text = "checks:\n  - name: x\n    type: ftp\n    target: web\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert str(caught.value) == (
        "vigil.yaml:3: checks[0].type: 'ftp' is not a check type; "
        "use one of http, tcp, process, command, sql, metric"
    )


def test_a_typo_in_a_check_is_an_unknown_field():
    text = GOOD.replace("    max_latency: 500ms\n", "    max_latenc: 500ms\n")
    with pytest.raises(ConfigError, match=r"^vigil.yaml:10: checks\[0\].max_latenc: unknown field"):
        parse_config(text)


def test_unknown_parents_duplicates_and_cycles_are_located():
    with pytest.raises(
        ConfigError, match=r"vigil.yaml:20: checks\[2\].depends_on: depends on unknown check 'db'"
    ):
        parse_config(GOOD.replace("depends_on: [web-tcp]", "depends_on: [db]"))
    with pytest.raises(ConfigError, match=r"vigil.yaml:11: checks\[1\].name: check 'web-http' is "):
        parse_config(GOOD.replace("name: web-tcp", "name: web-http"))
    cyclic = GOOD.replace("    port: 8443\n", "    port: 8443\n    depends_on: [nightly]\n")
    with pytest.raises(
        ConfigError,
        match=r"checks\[1\].depends_on: dependency cycle: "
        r"web-tcp -> nightly -> web-tcp",
    ):
        parse_config(cyclic)


def test_bad_durations_selectors_and_windows_are_explained():
    with pytest.raises(ConfigError, match=r"vigil.yaml:10: checks\[0\].max_latency: '5 sec'"):
        parse_config(GOOD.replace("max_latency: 500ms", "max_latency: 5 sec"))
    metric = "checks:\n  - {name: m, type: metric, target: w, selector: 'up{', op: '<', value: 1}\n"
    with pytest.raises(ConfigError, match=r"vigil.yaml:2: checks\[0\].selector: "):
        parse_config(metric)
    with pytest.raises(ConfigError, match=r"health.maintenance\[0\]: end must be after start"):
        parse_config(GOOD.replace("T03:00", "T01:00"))


def test_a_process_check_needs_something_to_match():
    with pytest.raises(
        ConfigError, match=r"vigil.yaml:2: checks\[0\].process: a process check needs"
    ):
        parse_config("checks:\n  - {name: p, type: process, target: w}\n")
