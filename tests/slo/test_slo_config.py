"""The slos: section: what validates, and errors that name file, line and field."""

import pytest

from models.config import parse_config
from models.config.slo import alert_rules
from models.errors import ConfigError

CHECKS = "checks:\n  - {name: web, type: tcp, target: shop, host: 127.0.0.1, port: 80}\n"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    return str(caught.value)


def test_an_slo_generates_the_workbooks_three_burn_rate_rules():
    config = parse_config(CHECKS + "slos:\n  - {name: shop, check: web, target: 99.9}\n")
    rules = {r.name: r for r in alert_rules(config)}
    assert sorted(rules) == ["slo:shop:page-1h", "slo:shop:page-6h", "slo:shop:ticket-3d"]
    page = rules["slo:shop:page-1h"]
    assert (page.op, page.value, str(page.severity)) == (">=", 14.4, "critical")
    assert page.series == 'vigil_slo_burn_rate{slo="shop",alert="page-1h"}'
    assert page.labels == {"slo": "shop", "target": "shop"}
    assert (rules["slo:shop:page-6h"].value, rules["slo:shop:ticket-3d"].value) == (6.0, 1.0)
    assert str(rules["slo:shop:ticket-3d"].severity) == "warning"


def test_an_unknown_check_is_named_with_its_line():
    text = CHECKS + "slos:\n  - name: shop\n    check: wbe\n    target: 99.9\n"
    assert error_of(text).startswith("vigil.yaml:5: slos[0].check: unknown check 'wbe'; known: web")


def test_a_target_of_a_hundred_percent_is_refused_at_its_line():
    text = CHECKS + "slos:\n  - name: shop\n    check: web\n    target: 100\n"
    assert "vigil.yaml:6: slos[0].target" in error_of(text)


def test_an_slo_needs_a_check_or_a_good_and_total_pair():
    problem = error_of("slos:\n  - name: shop\n    good: ok_total\n    target: 99\n")
    assert "vigil.yaml:2: slos[0]" in problem and "`good:` and `total:`" in problem


def test_a_bad_selector_and_a_short_window_are_refused():
    bad = "slos:\n  - {name: a, good: 'x{', total: y, target: 99}\n"
    assert "slos[0].good" in error_of(bad)
    short = CHECKS + "slos:\n  - {name: a, check: web, target: 99, window: 1d}\n"
    assert "exceeds the SLO's `window:`" in error_of(short)


def test_a_pair_whose_short_window_is_not_shorter_is_refused():
    text = CHECKS + (
        "slos:\n  - name: a\n    check: web\n    target: 99\n    alerts:\n"
        "      - {name: p, long: 5m, short: 1h, factor: 14.4}\n"
    )
    assert "vigil.yaml:8: slos[0].alerts[0]: `short:` must be shorter" in error_of(text)


def test_a_duplicate_slo_and_a_clash_with_a_rule_are_refused():
    twice = (
        CHECKS
        + "slos:\n  - {name: a, check: web, target: 99}\n  - {name: a, check: web, target: 9}\n"
    )
    assert "slos[1].name: SLO 'a' is defined twice" in error_of(twice)
    clash = CHECKS + (
        "rules:\n  - {name: 'slo:a:page-1h', series: x, value: 1}\n"
        "slos:\n  - {name: a, check: web, target: 99}\n"
    )
    problem = error_of(clash)
    assert "vigil.yaml:6: slos[0].name: its rule 'slo:a:page-1h' clashes" in problem


def test_a_report_to_an_unknown_channel_is_named_with_its_line():
    mail = "mailto://127.0.0.1:2525?from=v@example.com&to=a@example.com&mode=insecure"
    text = f"channels:\n  - {{name: mail, url: '{mail}'}}\nreport:\n  channels: [mial]\n"
    assert error_of(text).startswith(
        "vigil.yaml:4: report.channels[0]: unknown channel 'mial'; known: mail"
    )
    assert "not a cron expression" in error_of("report: {channels: [x], cron: 'every day'}\n")


def test_every_yaml_example_in_docs_slo_validates():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "slo.md").read_text(encoding="utf-8")
    examples = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert len(examples) >= 4
    for example in examples:
        parse_config(example, source="docs/slo.md")
