"""A worker killed mid-recovery: its run ends FAILED with the step it reached, audited, once."""

from datetime import UTC, datetime, timedelta

from models.config import parse_config
from models.db import make_engine
from models.recovery import AuditEvent
from models.vocabulary.run_states import RunState
from tasks.recovery.orphans import end_orphaned_runs
from tasks.recovery.store import admit, audit, audit_trail, run_by_id, set_state
from tasks.store import shared_counters

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def test_a_dead_workers_run_fails_with_its_steps_named_and_only_once(db_url):
    procedure = parse_config(
        "procedures:\n  - name: restart\n    steps: [{type: wait, duration: 1s}]"
    ).procedures[0]
    db = make_engine(db_url)
    run, why = admit(db, procedure, "web-1", trigger="cli", labels={}, now=NOW)
    assert run is not None and run.id is not None, why
    set_state(db, run.id, RunState.RUNNING, flow_run_id="flow-run-1")
    audit(db, "restart", "web-1", AuditEvent.STEP_SUCCEEDED, "drain: ok", run_id=run.id, now=NOW)
    other, _ = admit(db, procedure, "web-2", trigger="cli", labels={}, now=NOW)
    assert other is not None and other.id is not None
    set_state(db, other.id, RunState.RUNNING, flow_run_id="flow-run-2")  # its worker lives

    later = NOW + timedelta(minutes=3)
    assert end_orphaned_runs(db, ["flow-run-1"], "its process is gone", now=later) == [run.id]
    assert end_orphaned_runs(db, ["flow-run-1"], "its process is gone", now=later) == []

    ended = run_by_id(db, run.id)
    assert ended is not None and ended.state == RunState.FAILED
    assert ended.message.startswith("worker died (its process is gone) while running")
    assert "after 1 steps (drain); they were not rolled back" in ended.message
    trail = [(a.event, a.detail) for a in audit_trail(db, run.id)]
    assert trail[-1] == (AuditEvent.FAILED, ended.message)
    assert [e for e, _ in trail].count(AuditEvent.FAILED) == 1
    still = run_by_id(db, other.id)
    assert still is not None and still.state == RunState.RUNNING
    counted = shared_counters.read(db)[shared_counters.RECOVERIES_RUN]
    assert counted == {'{"outcome": "failed", "procedure": "restart"}': 1.0}
    db.dispose()
