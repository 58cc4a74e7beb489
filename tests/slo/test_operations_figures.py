"""Operations figures and uptime on a seeded history equal the hand computation (both stores)."""

from datetime import UTC, datetime, timedelta

import pytest

from models.db import make_engine
from tasks.slo.operations import forecast_accuracy, operations_report
from tasks.slo.uptime import uptime_report
from tests.slo.history import DAY, HAND, HOUR, MIN, seed_checks, seed_operations

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(days=7)


@pytest.fixture
def engine(db_url):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_mtta_mttr_auto_fixes_recoveries_noise_and_dismissals_match_the_hand_figures(engine):
    seed_operations(engine, START)
    figures = operations_report(engine, START, END)
    assert figures.alerts == HAND["alerts"]
    assert figures.mtta_s == pytest.approx(HAND["mtta_s"])  # 340 s
    assert figures.mttr_s == pytest.approx(HAND["mttr_s"])  # 2175 s
    assert figures.auto_fixed_share == pytest.approx(HAND["auto_fixed_share"])
    assert figures.alerts_per_rule == HAND["alerts_per_rule"]
    assert figures.recovery_success == HAND["recovery_success"]
    assert figures.dismissed_per_rule == HAND["dismissed_per_rule"]
    assert forecast_accuracy(engine) == [
        {"series": "cpu", "labels": '{"host":"web"}', "model": "ets", "mase": 0.8}
    ]


def test_uptime_per_check_and_target_over_a_day_a_week_and_a_month_with_its_outages(engine):
    seed_checks(engine, END)
    report = uptime_report(engine, END)
    checks = {row["name"]: row for row in report["checks"]}
    web_http, web_tcp = checks["web-http"], checks["web-tcp"]
    assert web_http["24h"] == pytest.approx(1 - 1800 / DAY)
    assert web_http["7d"] == pytest.approx(1 - 1800 / (7 * DAY))
    assert web_http["30d"] == pytest.approx(1 - 1800 / (30 * DAY))
    assert web_tcp["24h"] == 1.0 and web_tcp["7d"] == pytest.approx(1 - 1200 / (7 * DAY))
    end = END.timestamp()
    assert web_http["outages"] == [(end - 2 * HOUR, end - 90 * MIN)]
    assert web_tcp["outages"] == [(end - 3 * DAY, end - 3 * DAY + 20 * MIN)]
    targets = {row["name"]: row for row in report["targets"]}
    assert targets["web"]["7d"] == pytest.approx(1 - (1800 + 1200) / (7 * DAY))
    assert len(targets["web"]["outages"]) == 2
    assert targets["db"]["30d"] == 1.0 and targets["db"]["outages"] == []
