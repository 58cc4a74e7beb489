from prefect.utilities.callables import parameter_schema

from deployments.recovery import recovery_deployment
from flows.recover import recover
from tasks.recovery.trigger import DEPLOYMENT


def test_the_deployment_is_the_one_alert_triggers_launch_with_a_ui_form():
    deployment = recovery_deployment()
    assert f"{deployment.flow_name}/{deployment.name}" == DEPLOYMENT
    form = parameter_schema(recover).model_dump()
    assert {"procedure", "target", "labels", "dry_run", "run_id"} <= set(form["properties"])
    assert form["required"] == ["procedure", "target"]
