"""Burn-rate alerts against the SRE workbook's arithmetic, on a controlled clock.

99.9 % over 30 days allows 0.001 x 30 d = 2,592 s (43.2 min) of bad time. The workbook's
page pairs: 1 h & 5 m at 14.4x (2 % of the budget in an hour), 6 h & 30 m at 6x (5 % in
6 h); the ticket pair 3 d & 6 h at 1x. Each scenario writes real check results or counter
samples, runs the SLO evaluation every minute as the `slo` flow does, and reads the alert
rows the normal alert engine made.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.store import MetricStore, NewSample
from tasks.slo.evaluate import evaluate_slos
from tests.slo.conftest import store_results

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()  # when trouble starts
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
BUDGET_S = 0.001 * 30 * DAY  # 2592 s
HISTORY_S = 3 * DAY + HOUR  # enough good history to fill the ticket pair's 3-day window

CHECK_SLO = """
checks:
  - {name: api-http, type: tcp, target: api, host: 127.0.0.1, port: 9}
slos:
  - {name: api, check: api-http, target: 99.9, window: 30d}
"""
RATIO_SLO = """
slos:
  - name: checkout
    good: 'requests_total{code!~"5.."}'
    total: requests_total
    target: 99.9
    window: 30d
"""


def run_clock(config, engine, start: float, end: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Evaluate the SLOs each minute from ``start`` to ``end``; return rule -> first firing."""
    assert engine.store is not None
    now = start
    while now <= end:
        evaluate_slos(config, engine.store, now, [engine.on_batch])
        now += MINUTE
    return first_fired(engine)


def first_fired(engine) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with engine.db.connect() as conn:
        rows = conn.execute(select(Alert.rule, Alert.fired_at)).all()
    return {
        rule: (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() - T0
        for rule, at in rows
        if at is not None
    }


def check_history(store: MetricStore, outage: list[tuple[float, str]]) -> None:
    """Up every 5 min for 3 days, every 30 s for the last 7 hours, then ``outage``."""
    coarse = [(t, "up") for t in _range(T0 - HISTORY_S, T0 - 7 * HOUR, 300)]
    fine = [(t, "up") for t in _range(T0 - 7 * HOUR, T0, 30)]
    store_results(store, "api-http", "api", coarse + fine + outage)


def _range(start: float, end: float, step: float) -> list[float]:
    return [start + i * step for i in range(int((end - start) // step))]


def test_a_total_outage_pages_within_the_workbooks_detection_time(slo_site):
    config, engine = slo_site(CHECK_SLO)
    check_history(engine.store, [(t, "down") for t in _range(T0, T0 + 16 * MINUTE, 30)])
    fired = run_clock(config, engine, T0, T0 + 15 * MINUTE)
    # 14.4x over 1 h needs 0.001 x 14.4 x 3600 s = 51.84 s of outage; evaluated each minute.
    fast_detection_s = 0.001 * 14.4 * HOUR
    assert fast_detection_s == pytest.approx(51.84)
    assert fast_detection_s <= fired["slo:api:page-1h"] <= fast_detection_s + MINUTE
    # 6x over 6 h needs 0.001 x 6 x 21600 s = 777.6 s (12.96 min).
    slow_detection_s = 0.001 * 6 * 6 * HOUR
    assert slow_detection_s <= fired["slo:api:page-6h"] <= slow_detection_s + MINUTE
    status = evaluate_slos(config, engine.store, T0 + 15 * MINUTE, [])[0]
    assert status.budget_remaining == pytest.approx(1 - 15 * MINUTE / BUDGET_S)  # 0.6528
    with engine.db.connect() as conn:
        severity = conn.execute(select(Alert.labels).where(Alert.rule == "slo:api:page-1h"))
        assert '"severity":"critical"' in severity.scalar_one()


def test_a_brief_blip_pages_no_one_and_spends_its_seconds_of_budget(slo_site):
    config, engine = slo_site(CHECK_SLO)
    blip = [(T0, "down"), *((t, "up") for t in _range(T0 + 30, T0 + 2 * HOUR, 30))]
    check_history(engine.store, blip)
    fired = run_clock(config, engine, T0, T0 + 65 * MINUTE)  # the blip leaves the hour
    # 30 s down: 30 / 3600 / 0.001 = 8.3x over 1 h, below 14.4; nothing else comes close.
    assert fired == {}
    status = evaluate_slos(config, engine.store, T0 + 65 * MINUTE, [])[0]
    assert status.budget_remaining == pytest.approx(1 - 30 / BUDGET_S)  # 0.98843
    assert status.sli == pytest.approx(1 - 30 / (HISTORY_S + 65 * MINUTE))


def test_a_two_percent_error_rate_is_caught_by_the_six_times_pair(slo_site):
    config, engine = slo_site(RATIO_SLO)
    requests(engine.store, T0 - 7 * HOUR, T0, error_share=0.0)  # fills the 6 h window
    requests(engine.store, T0 + MINUTE, T0 + 110 * MINUTE, error_share=0.02)
    fired = run_clock(config, engine, T0, T0 + 110 * MINUTE)
    # 2 % is a 20x burn: the 1 h window reaches 14.4x once 0.0144 / 0.02 x 60 = 43.2 min of
    # it are in, the 6 h window reaches 6x at 0.006 / 0.02 x 360 = 108 min.
    assert 43.2 * MINUTE <= fired["slo:checkout:page-1h"] <= 44 * MINUTE
    assert 108 * MINUTE <= fired["slo:checkout:page-6h"] <= 109 * MINUTE
    status = evaluate_slos(config, engine.store, T0 + 110 * MINUTE, [])[0]
    # Events: 1,000 a minute; 20 bad a minute for 110 minutes; 0.1 % of all events allowed.
    total = (7 * 60 + 110) * 1000
    assert status.budget_remaining == pytest.approx(1 - 110 * 20 / (0.001 * total))


def requests(store: MetricStore, start: float, end: float, *, error_share: float) -> None:
    """1,000 requests a minute as two counters (code 200 and 500), continuing their totals."""
    latest = store.latest("requests_total")
    ok, bad = 0.0, 0.0
    for _, row in latest.iterrows():
        if '"500"' in row["labels"]:
            bad = row["value"]
        else:
            ok = row["value"]
    samples = []
    t = start
    while t <= end:
        ok += 1000 * (1 - error_share)
        bad += 1000 * error_share
        samples.append(NewSample("requests_total", {"code": "200"}, t, ok))
        samples.append(NewSample("requests_total", {"code": "500"}, t, bad))
        t += MINUTE
    assert not store.write(samples).rejected
