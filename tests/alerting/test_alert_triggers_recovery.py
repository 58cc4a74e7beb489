"""A firing alert asks for its mapped recovery, through the recovery safety gate."""

from sqlalchemy import select

from models.config import parse_config
from models.db import make_engine
from models.recovery import RecoveryAudit, RecoveryRun
from tests.alerting.helpers import T0, write

CONFIG = """
rules:
  - name: ApiDown
    series: api_up
    op: "<"
    value: 1
    procedure: restart-api
  - name: ApiSlow
    series: api_latency_seconds
    op: ">"
    value: 2
channels:
  - {{name: hook, url: "{url}"}}
procedures:
  - name: restart-api
    steps:
      - {{name: restart, type: command, argv: [/bin/true]}}
    limits: {{max_runs: 1, window: 1h}}
  - name: flush-cache
    triggers: [ApiSlow]
    steps:
      - {{name: flush, type: command, argv: [/bin/true]}}
"""


def test_firing_alerts_launch_their_procedures_once_within_the_rate_limit(
    make_alert_engine, sqlite_url, webhook
):
    from tests.alerting.helpers import recovery_hook

    text = CONFIG.format(url=webhook.url)
    launched = []  # the launcher is the boundary to the served deployment
    hook = recovery_hook(parse_config(text), make_engine(sqlite_url), launched.append)
    engine = make_alert_engine(text, on_firing=[hook])
    write(engine, T0, [("api_up", {"target": "api"}, 0.0)])
    write(engine, T0 + 10, [("api_latency_seconds", {"target": "api"}, 5.0)])
    write(engine, T0 + 20, [("api_up", {"target": "api"}, 1.0)])  # resolves
    write(engine, T0 + 30, [("api_up", {"target": "api"}, 0.0)])  # fires again: rate limited
    assert [(run.procedure, run.target, run.trigger) for run in launched] == [
        ("restart-api", "api", "alert:ApiDown"),
        ("flush-cache", "api", "alert:ApiSlow"),
    ]
    with make_engine(sqlite_url).connect() as conn:
        stored = conn.execute(select(RecoveryRun.procedure)).scalars().all()  # type: ignore[call-overload]
        audit = conn.execute(select(RecoveryAudit.procedure, RecoveryAudit.event)).all()  # type: ignore[call-overload]
    assert sorted(stored) == ["flush-cache", "restart-api"]
    assert [(p, str(e)) for p, e in audit][-2:] == [  # the refusal is audited
        ("restart-api", "triggered"),
        ("restart-api", "skipped"),
    ]
