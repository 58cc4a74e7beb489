"""`vigil rules test`: promtool-like unit tests of rules, run through the real engine."""

from pathlib import Path

from typer.testing import CliRunner

from vigil.cli import app

runner = CliRunner()

VIGIL_YAML = """
rules:
  - name: HighCpu
    series: cpu
    value: 90
    for: 2m
    severity: critical
    annotations: {summary: "{{ labels.host }} at {{ value }}"}
  - name: HotCpu
    series: cpu
    tiers:
      - {severity: warning, value: 80, clear: 75}
"""

TESTS = """
rule_files: [vigil.yaml]
evaluation_interval: 1m
tests:
  - name: cpu stays high
    interval: 1m
    input_series:
      - series: 'cpu{host="a"}'
        values: "50 60 95x5 70"
    alert_rule_test:
      - eval_time: 2m
        alertname: HighCpu
        exp_alerts: []
      - eval_time: 4m
        alertname: HighCpu
        exp_alerts:
          - exp_labels: {host: a, severity: critical}
            exp_annotations: {summary: "a at 95.0"}
      - eval_time: 8m
        alertname: HighCpu
        exp_alerts: []
  - name: hovering does not flap
    input_series:
      - series: 'cpu{host="b"}'
        values: "79 81 79 81 79 81 74"
    alert_rule_test:
      - eval_time: 5m
        alertname: HotCpu
        exp_alerts:
          - exp_labels: {host: b, severity: warning}
      - eval_time: 6m
        alertname: HotCpu
        exp_alerts: []
"""


def write_files(tmp_path: Path, tests: str = TESTS) -> Path:
    (tmp_path / "vigil.yaml").write_text(VIGIL_YAML)
    path = tmp_path / "cpu_test.yaml"
    path.write_text(tests)
    return path


def test_passing_rule_tests_say_pass_per_case_and_exit_zero(tmp_path):
    done = runner.invoke(app, ["rules", "test", str(write_files(tmp_path))])
    assert done.exit_code == 0, done.output
    assert "PASS" in done.output and "cpu stays high" in done.output
    assert "hovering does not flap" in done.output and "FAIL" not in done.output


def test_a_failing_expectation_prints_its_line_and_a_diff_and_exits_one(tmp_path):
    wrong = TESTS.replace("{host: a, severity: critical}", "{host: a, severity: warning}")
    path = write_files(tmp_path, wrong)
    done = runner.invoke(app, ["rules", "test", str(path)])
    assert done.exit_code == 1
    assert f"FAIL {path}: cpu stays high" in done.output
    assert f"{path}:14: HighCpu at 4m: firing alerts differ" in done.output
    assert (
        '-{"host": "a", "severity": "warning"} annotations {"summary": "a at 95.0"}' in done.output
    )
    assert (
        '+{"host": "a", "severity": "critical"} annotations {"summary": "a at 95.0"}' in done.output
    )
    assert "PASS" in done.output  # the other case still runs


def test_bad_values_and_unknown_rules_are_named_with_their_line(tmp_path):
    path = write_files(tmp_path, TESTS.replace('"50 60 95x5 70"', '"50 sixty"'))
    done = runner.invoke(app, ["rules", "test", str(path)])
    assert done.exit_code == 2
    assert f"{path}:9: tests[0].input_series[0].values: 'sixty' is not a value" in done.output
    path = write_files(
        tmp_path,
        TESTS.replace(
            "alertname: HotCpu\n        exp_alerts: []", "alertname: Nope\n        exp_alerts: []"
        ),
    )
    done = runner.invoke(app, ["rules", "test", str(path)])
    assert done.exit_code == 1
    assert "alertname 'Nope' is not a rule; known: HighCpu, HotCpu" in done.output


def test_rules_may_be_written_in_the_test_file(tmp_path):
    path = tmp_path / "inline.yaml"
    path.write_text(
        "rules:\n  - {name: Down, series: up, op: '==', value: 0}\n"
        "tests:\n  - input_series: [{series: 'up{job=\"x\"}', values: '1 0 0'}]\n"
        "    alert_rule_test:\n      - {eval_time: 2m, alertname: Down, exp_alerts: "
        "[{exp_labels: {job: x, severity: warning}}]}\n"
    )
    done = runner.invoke(app, ["rules", "test", str(path)])
    assert done.exit_code == 0, done.output


def test_the_docs_rule_test_example_passes(tmp_path):
    import textwrap

    page = (Path(__file__).parents[2] / "docs" / "alerting.md").read_text()
    section = page.split("- **Rule tests**", 1)[1]
    example = textwrap.dedent(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    done = runner.invoke(app, ["rules", "test", str(write_files(tmp_path, example))])
    assert done.exit_code == 0, done.output
    assert "PASS" in done.output and "cpu stays high" in done.output
