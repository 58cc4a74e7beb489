"""Alert labels may not reach a shell: refused on load unless the procedure pins their values,
and a run with a value outside the pinned list is refused before anything runs."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tasks.core.recovery.template import TemplateContext, render_argv
from vigil.cli import app

runner = CliRunner()


def _procedure(argv: str, extra: str = "") -> str:
    return (
        "targets:\n  - name: web-1\n"
        "procedures:\n"
        "  - name: p\n"
        f"{extra}"
        "    steps:\n"
        f"      - {{type: command, argv: {argv}}}\n"
    )


def _validate(write_config, text: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["validate", write_config(text)])


def test_a_label_in_a_shell_script_is_refused_with_its_line(write_config):
    result = _validate(write_config, _procedure('[/bin/sh, -c, "echo {labels.x}"]'))
    assert result.exit_code == 2
    assert ":6: procedures[0].steps[0].argv[2]: {labels.x} comes from an alert" in result.stderr
    assert "allowed_labels: {x: [...]}" in result.stderr


def test_a_label_as_the_program_name_is_refused_with_its_line(write_config):
    result = _validate(write_config, _procedure('["{labels.tool}", restart]'))
    assert result.exit_code == 2
    assert ":6: procedures[0].steps[0].argv[0]: {labels.tool} comes from an alert and would " in (
        result.stderr
    )
    assert "name the program to run" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        '[bash, -c, "systemctl restart {labels.x}"]',
        '[dash, -ec, "x {labels.x}"]',
        '[zsh, -o, pipefail, -c, "x {labels.x}"]',
        '[env, sh, -c, "x {labels.x}"]',
        '[/usr/bin/env, FOO=1, /bin/bash, -c, "x {labels.x}"]',
        '[sudo, -u, web, sh, -c, "x {labels.x}"]',
        '[timeout, "5", bash, -c, "x {labels.x}"]',
        '[docker, exec, web, sh, -c, "x {labels.x}"]',
        '[python3, -c, "print({labels.x})"]',
        '[/usr/bin/perl, -e, "{labels.x}"]',
        '[node, --eval, "{labels.x}"]',
        '[bash, "/opt/scripts/{labels.x}.sh"]',
        '[ssh, web-1, "systemctl restart {labels.x}"]',
        '[su, -c, "x {labels.x}", web]',
        '[env, "{labels.x}"]',
        '[sudo, -u, web, "{labels.x}"]',
        '[sh, -c, "x {target}"]',
    ],
)
def test_labels_in_code_positions_are_refused(write_config, argv):
    result = _validate(write_config, _procedure(argv))
    assert result.exit_code == 2 and "comes from an alert" in result.stderr, result.output


@pytest.mark.parametrize(
    "argv",
    [
        '[systemctl, restart, "{labels.x}"]',
        '[sh, -c, \'systemctl restart "$1"\', sh, "{labels.x}"]',
        '[python3, -c, "import sys; print(sys.argv[1])", "{labels.x}"]',
        '[sudo, systemctl, restart, "{labels.x}"]',
        '[bash, /opt/fix.sh, "{labels.x}", "{target}"]',
        '[kubectl, rollout, restart, "deploy/{target}"]',
    ],
)
def test_labels_as_plain_arguments_are_accepted(write_config, argv):
    result = _validate(write_config, _procedure(argv))
    assert result.exit_code == 0, result.output


def test_pinned_labels_and_targets_may_reach_a_shell(write_config):
    pinned = "    targets: [web-1]\n    allowed_labels: {x: [nginx, redis]}\n"
    result = _validate(
        write_config, _procedure('[sh, -c, "restart {labels.x} on {target}"]', pinned)
    )
    assert result.exit_code == 0, result.output


def test_a_pinned_label_with_an_unlisted_value_runs_nothing(
    prefect_harness, write_config, recovery_db, tmp_path, monkeypatch
):
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path / ".vigil"))  # ours: --as-admin works
    (tmp_path / ".vigil").mkdir()
    ran, injected = tmp_path / "ran", tmp_path / "injected"
    code = f'open("{tmp_path}/{{labels.name}}", "w")'
    config = write_config(
        "procedures:\n"
        "  - name: touch\n"
        "    limits: {cooldown: 0s}\n"
        "    allowed_labels: {name: [ran]}\n"
        "    steps:\n"
        f"      - {{type: command, argv: ['{sys.executable}', -c, '{code}']}}\n"
    )
    hostile = f'ran", "w"); open("{injected}", "w"); ("'
    _control_the_value_injects_code_when_unguarded(code, hostile, injected)

    def run(label: str):  # type: ignore[no-untyped-def]
        args = ["recovery", "run", "touch", "-t", "h1", "-l", label, "--as-admin"]
        return runner.invoke(app, [*args, "--config", config, "--db", recovery_db])

    refused = run(f"name={hostile}")
    assert refused.stdout.startswith("skipped: label name="), refused.output
    assert "is not one of its allowed values (ran)" in refused.stdout
    assert not injected.exists() and not ran.exists()  # nothing ran, injected or not

    allowed = run("name=ran")
    assert allowed.exit_code == 0 and allowed.stdout.startswith("succeeded"), allowed.output
    assert ran.exists() and not injected.exists()


def _control_the_value_injects_code_when_unguarded(code: str, hostile: str, marker) -> None:  # type: ignore[no-untyped-def]
    """The hostile value is a real injection: filled in without the check, it runs."""
    ctx = TemplateContext(untrusted={"labels.name": hostile})
    subprocess.run(render_argv([sys.executable, "-c", code], ctx), check=False)
    assert marker.exists()
    marker.unlink()
    (marker.parent / "ran").unlink()
