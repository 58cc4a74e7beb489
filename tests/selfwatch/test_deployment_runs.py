"""The self-watch's late and failed deployment runs, counted by a real Prefect server."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.selfwatch.observe import PAGE, deployment_run_counts, deployment_samples
from tasks.store.batch_hooks import BatchWritten


@pytest.mark.slow  # about 230 flow runs on the session's Prefect server
def test_late_and_failed_runs_are_counted_per_deployment_and_fire_their_rules(
    prefect_harness, tmp_path
):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Crashed, Failed, Late, Scheduled, State, StateType

    def timed_out() -> State:  # what a flow run's timeout ends it with: a Failed state
        return State(type=StateType.FAILED, name="TimedOut")

    unique, now = uuid.uuid4().hex[:8], datetime.now(UTC)

    @flow(name=f"loose-{unique}")
    def loose() -> None:
        """A flow run started without a deployment."""

    long_ago, soon = now - timedelta(hours=3), now + timedelta(hours=1)
    with get_client(sync_client=True) as client:

        def deployment(flow: str, name: str) -> uuid.UUID:
            return client.create_deployment(client.create_flow_from_name(flow), name)

        def end(deployment_id: uuid.UUID | None, state: State) -> datetime:
            if deployment_id is None:
                run_id = client.create_flow_run(loose).id
            else:
                run_id = client.create_flow_run_from_deployment(deployment_id).id
            client.set_flow_run_state(run_id, state, force=True)
            ended = client.read_flow_run(run_id).end_time
            assert ended is not None or not state.is_final()
            return ended or now

        nightly_a = deployment(f"etl-{unique}", "nightly")
        nightly_b = deployment(f"backup-{unique}", "nightly")  # same name, another flow
        deployment(f"backup-{unique}", "idle")
        busy = deployment(f"busy-{unique}", "queued")
        before = end(nightly_a, Failed())  # ended before the window starts
        first = end(nightly_a, Failed())
        for state in (Crashed(), timed_out(), Completed(), Scheduled(scheduled_time=soon)):
            end(nightly_a, state)
        end(nightly_b, Failed())
        end(None, Failed())  # a run of no deployment counts for none
        for due in (long_ago, now - timedelta(minutes=5)):  # late for longer than the window too
            client.create_flow_run_from_deployment(nightly_a, state=Late(scheduled_time=due))
        for _ in range(PAGE + 1):  # more than one page of the API
            client.create_flow_run_from_deployment(busy, state=Late(scheduled_time=long_ago))

    window_starts = before + (first - before) / 2
    assert before < window_starts < first
    observed = datetime.now(UTC)
    counts = deployment_run_counts(observed - window_starts, observed)
    ours = {name: n for name, n in counts.items() if unique in name}
    assert ours == {
        f"etl-{unique}/nightly": (2, 3),  # Failed, Crashed, TimedOut in the window
        f"backup-{unique}/nightly": (0, 1),
        f"backup-{unique}/idle": (0, 0),
        f"busy-{unique}/queued": (PAGE + 1, 0),
    }

    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    db = make_engine(url)
    engine = AlertEngine(db, build_plan(parse_config("{}\n")), store=MetricStore(db), emit=None)
    samples = deployment_samples(ours, {}, observed)
    MetricStore(db).write(samples)
    engine.on_batch(BatchWritten("self", observed, samples))
    engine.outbox.stop()
    with db.connect() as conn:
        rows = conn.execute(select(Alert.rule, Alert.labels).where(Alert.state == "firing")).all()  # type: ignore[call-overload]
    firing = sorted((rule, json.loads(labels)["deployment"]) for rule, labels in rows)
    assert firing == [
        ("VigilDeploymentFailing", f"backup-{unique}/nightly"),
        ("VigilDeploymentFailing", f"etl-{unique}/nightly"),
        ("VigilDeploymentLate", f"busy-{unique}/queued"),
        ("VigilDeploymentLate", f"etl-{unique}/nightly"),
    ]
    db.dispose()
