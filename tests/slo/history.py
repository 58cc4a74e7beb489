"""A seeded week of operations, with the figures a person computes from it by hand."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from models.alerting import Alert, AlertEvent, AlertTransition
from models.analytics import ModelVersion
from models.checks import CheckResult, CheckStateRecord
from models.dismissal import AlertDismissal
from models.metrics import Series
from models.recovery import RecoveryRun

MIN, HOUR, DAY = 60, 3600, 86400

# alert id, rule, target, fired (s after start), acked after (s), resolved after (s)
EPISODES = [
    (1, "DiskFull", "db", 1 * HOUR, 300, 2700),
    (1, "DiskFull", "db", 2 * DAY, 600, 1800),
    (2, "HighCpu", "web", 3 * DAY, None, 600),  # restart-web fixed it after 8 minutes
    (3, "HighCpu", "api", 4 * DAY, 120, 3600),
    (4, "Flappy", "web", 5 * DAY, None, None),  # still firing
]
BEFORE_SPAN = (5, "Old", "db", -DAY, 30, 100)  # outside the span: counts nowhere
HAND = {
    "alerts": 5,
    "mtta_s": (300 + 600 + 120) / 3,  # 340 s = 5m 40s
    "mttr_s": (2700 + 1800 + 600 + 3600) / 4,  # 2175 s = 36m 15s
    "auto_fixed_share": 1 / 4,
    "alerts_per_rule": {"DiskFull": 2, "HighCpu": 2, "Flappy": 1},
    "recovery_success": {"restart-api": (1, 1), "restart-web": (1, 2)},
    "dismissed_per_rule": {"Flappy": 2, "HighCpu": 1},
}


def _at(start: datetime, offset: float) -> datetime:
    return start + timedelta(seconds=offset)


def seed_operations(engine: Engine, start: datetime) -> None:
    """Alerts, acks, recoveries, dismissals and models of the week beginning at ``start``."""
    alerts, moves, events = {}, [], []
    for alert_id, rule, target, fired, acked, resolved in [*EPISODES, BEFORE_SPAN]:
        labels = json.dumps({"alertname": rule, "target": target}, sort_keys=True)
        alerts[alert_id] = {
            "id": alert_id, "fingerprint": f"fp{alert_id}", "rule": rule, "labels": labels,
            "state": "firing" if resolved is None else "resolved", "version": 0,
            "updated_at": start, "is_flapping": False, "flap_changes": "[]", "annotations": "{}",
            "escalation_level": 0,
        }  # fmt: skip
        steps = [("inactive", "pending", fired - 30), ("pending", "firing", fired)]
        if resolved is not None:
            steps.append(("firing", "resolved", fired + resolved))
        for old, new, offset in steps:
            moves.append(
                {"alert_id": alert_id, "fingerprint": f"fp{alert_id}", "rule": rule,
                 "from_state": old, "to_state": new, "at": _at(start, offset), "reason": ""}
            )  # fmt: skip
        if acked is not None:
            events.append(
                {"alert_id": alert_id, "fingerprint": f"fp{alert_id}", "kind": "acknowledged",
                 "at": _at(start, fired + acked), "actor": "ana", "detail": ""}
            )  # fmt: skip
    runs = [
        ("restart-web", "web", "alert:HighCpu", "succeeded", 3 * DAY + 8 * MIN, False),
        ("restart-web", "web", "alert:HighCpu", "failed", 4 * DAY, False),
        ("restart-api", "api", "manual", "succeeded", 4 * DAY + 30 * MIN, False),
        ("restart-api", "api", "manual", "succeeded", 4 * DAY + 40 * MIN, True),  # dry run
    ]
    dismissed = [
        ("HighCpu", DAY),
        ("Flappy", 5 * DAY),
        ("Flappy", 5 * DAY + HOUR),
        ("DiskFull", -DAY),
    ]
    with engine.begin() as conn:
        conn.execute(insert(Alert.__table__), list(alerts.values()))  # type: ignore[attr-defined]
        conn.execute(insert(AlertTransition.__table__), moves)  # type: ignore[attr-defined]
        conn.execute(insert(AlertEvent.__table__), events)  # type: ignore[attr-defined]
        conn.execute(
            insert(RecoveryRun.__table__),  # type: ignore[attr-defined]
            [
                {"procedure": p, "target": t, "trigger": trig, "state": s, "is_dry_run": dry,
                 "labels": "{}", "requested_at": _at(start, off - 60),
                 "finished_at": _at(start, off), "message": ""}
                for p, t, trig, s, off, dry in runs
            ],
        )  # fmt: skip
        conn.execute(
            insert(AlertDismissal.__table__),  # type: ignore[attr-defined]
            [
                {"rule": rule, "labels": "{}", "until": _at(start, off + DAY),
                 "created_by": "ana", "comment": "", "created_at": _at(start, off)}
                for rule, off in dismissed
            ],
        )  # fmt: skip
        series_id = conn.execute(
            insert(Series.__table__).values(  # type: ignore[attr-defined]
                name="cpu", labels='{"host":"web"}', kind="gauge", unit="", created_at=start
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(ModelVersion.__table__),  # type: ignore[attr-defined]
            [
                {"series_id": series_id, "version": v, "model": m, "status": s, "period": 1,
                 "seasonality": "none", "params": "{}", "train_start": start, "train_end": start,
                 "backtest_mase": mase, "baseline_mase": 1.0, "backtest": "{}", "reason": "",
                 "error": "", "created_at": start}
                for v, m, s, mase in [(1, "naive", "retired", 1.2), (2, "ets", "current", 0.8)]
            ],
        )  # fmt: skip


# check, target, [(start, end) of each outage, in seconds before the end of the history]
CHECK_OUTAGES = {
    ("web-http", "web"): [(2 * HOUR, 90 * MIN)],
    ("web-tcp", "web"): [(3 * DAY, 3 * DAY - 20 * MIN)],
    ("db-tcp", "db"): [],
}


def seed_checks(engine: Engine, end: datetime, *, days: int = 30, step: int = 600) -> None:
    """Results every ``step`` s for ``days`` up to ``end`` (a multiple of ``step``), down
    during CHECK_OUTAGES."""
    rows = []
    for (check, target), outages in CHECK_OUTAGES.items():
        for back in range(days * DAY, -1, -step):
            is_down = any(late >= back > early for late, early in outages)
            rows.append(
                {"check": check, "target": target, "component": check,
                 "at": end - timedelta(seconds=back), "status": "down" if is_down else "up",
                 "is_hard": is_down, "attempt": int(is_down), "tries": 1, "latency_ms": 3.0,
                 "message": ""}
            )  # fmt: skip
    states = [
        {"check": check, "target": target, "status": "up", "is_hard": True, "failures": 0,
         "passes": 1, "since": end, "checked_at": end, "message": ""}
        for check, target in CHECK_OUTAGES
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(CheckResult.__table__), rows)  # type: ignore[attr-defined]
        conn.execute(insert(CheckStateRecord.__table__), states)  # type: ignore[attr-defined]


def aligned_now(step: int = 600) -> datetime:
    """Now, rounded down to a multiple of ``step`` seconds."""
    now = datetime.now(UTC).timestamp()
    return datetime.fromtimestamp(now - now % step, UTC)
