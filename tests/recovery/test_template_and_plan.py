"""Placeholders from alert labels cannot change the shape of a command, URL or path."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.config import parse_config
from models.errors import RecoveryError
from tasks.core.recovery.plan import Action, Group, make_context, plan, plan_markdown
from tasks.core.recovery.template import TemplateContext, render_argv, render_path, render_url
from tasks.recovery.trigger import procedures_for_rule

HOSTILE = ["a; rm -rf /", "$(reboot)", "`id`", "x && y", "a b c", "'\"", "|cat /etc/shadow", "*"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_one_argument(value):
    ctx = TemplateContext(untrusted={"labels.instance": value})
    argv = render_argv(["kill-node", "{labels.instance}", "--node={labels.instance}"], ctx)
    assert argv == ["kill-node", value, f"--node={value}"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1))
def test_any_printable_value_keeps_the_argv_length_or_is_refused(value):
    ctx = TemplateContext(untrusted={"target": value})
    try:
        argv = render_argv(["ctl", "{target}", "restart"], ctx)
    except RecoveryError:
        assert value.startswith("-")
        return
    assert argv == ["ctl", value, "restart"]


def test_options_control_characters_and_path_escapes_are_refused():
    ctx = TemplateContext(untrusted={"target": "-rf", "labels.x": "a\nb", "labels.p": "../etc"})
    with pytest.raises(RecoveryError, match="option"):
        render_argv(["rm", "{target}"], ctx)
    with pytest.raises(RecoveryError, match="control characters"):
        render_argv(["echo", "{labels.x}"], ctx)
    with pytest.raises(RecoveryError, match="one plain name"):
        render_path("/var/cache/{labels.p}", ctx)
    with pytest.raises(RecoveryError, match="unknown placeholder"):
        render_argv(["{nope}"], ctx)


def test_urls_encode_untrusted_values_but_keep_trusted_ones():
    ctx = TemplateContext(trusted={"address": "http://h:80"}, untrusted={"target": "a/b?c#d"})
    assert render_url("{address}/r/{target}", ctx) == "http://h:80/r/a%2Fb%3Fc%23d"


def test_a_plan_renders_every_step_and_the_markdown_lists_them():
    config = parse_config("""
procedures:
  - name: p
    triggers: [Down]
    preconditions: [{tcp: "{target}:22", expect: failing}]
    steps:
      - type: scale
        replicas: 3
        argv: [kubectl, scale, "--replicas={replicas}", "deploy/{target}"]
      - type: parallel
        steps:
          - {type: python, entrypoint: "os.path:join", kwargs: {a: "{labels.dir}", b: x}}
          - {type: wait, duration: 1s}
    verify: {command: [check, "{target}"], within: 5s}
""")
    proc = config.procedures[0]
    the_plan = plan(proc, "api", make_context("p", "api", {"dir": "/tmp"}, address=None))
    scale, group = the_plan.items
    assert isinstance(scale, Action) and isinstance(group, Group)
    assert scale.params["argv"] == ["kubectl", "scale", "--replicas=3", "deploy/api"]
    assert group.actions[0].params["kwargs"] == {"a": "/tmp", "b": "x"}
    text = plan_markdown(the_plan)
    assert "precondition: `connect api:22` must be failing" in text
    assert "verify: `run ['check', 'api']` within 5s" in text
    assert procedures_for_rule(config.procedures, "Down") == [proc]
    assert procedures_for_rule(config.procedures, "Other") == []
