"""The slo and report deployments: scheduled from vigil.yaml; the slo flow writes its series."""

from datetime import timedelta

import pytest

from deployments.catalog import vigil_deployments
from flows.slo import evaluate_slos
from models.config import parse_config
from models.db import make_engine
from models.store import MetricStore
from tests.slo.history import aligned_now, seed_checks

MAIL = "mailto://127.0.0.1:2525?from=v@example.com&to=a@example.com&mode=insecure"
SLO = """
checks:
  - {name: web-http, type: tcp, target: web, host: 127.0.0.1, port: 9}
slos:
  - {name: web, check: web-http, target: 99.9}
"""


def test_slos_schedule_the_slo_flow_and_the_alert_sweep_that_resolves_their_alerts():
    deployments = {d.name: d for d in vigil_deployments(parse_config(SLO))}
    assert deployments["slo"].schedules[0].schedule.interval == timedelta(minutes=5)
    assert deployments["slo"].parameters == {"window_seconds": 300.0, "every_seconds": 60.0}
    assert "alert-sweep" in deployments


def test_a_report_section_schedules_the_report_on_its_cron():
    text = (
        SLO + f"channels:\n  - {{name: mail, url: '{MAIL}'}}\n"
        "report: {channels: [mail], cron: '0 8 * * 1', timezone: Europe/Berlin}\n"
    )
    [report] = [d for d in vigil_deployments(parse_config(text)) if d.name == "report"]
    schedule = report.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 8 * * 1", "Europe/Berlin")


def test_the_slo_flow_writes_the_sli_budget_and_burn_rates(
    prefect_harness, sqlite_url, serve_with, tmp_path
):
    engine = make_engine(sqlite_url)
    seed_checks(engine, aligned_now())
    config = tmp_path / "vigil.yaml"
    config.write_text(SLO, encoding="utf-8")
    serve_with(config, sqlite_url)
    totals = evaluate_slos(window_seconds=0)
    assert totals == {"evaluations": 1, "burning": 1}  # the 30-minute outage: a ticket
    latest = MetricStore(engine).latest('{__name__=~"vigil_slo_.*"}')
    engine.dispose()
    by_name = latest.groupby("name")["value"].apply(list).to_dict()
    assert by_name["vigil_slo_budget_remaining"] == [pytest.approx(1 - 1800 / 2592)]
    assert len(by_name["vigil_slo_burn_rate"]) == 3
