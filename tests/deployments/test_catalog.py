from datetime import timedelta

from deployments.catalog import vigil_deployments
from models.config import parse_config

FULL = """
checks:
  - {name: api, type: tcp, target: api, host: 127.0.0.1, port: 9}
rules:
  - {name: DiskFull, kind: forecast, series: 'disk_used_ratio', threshold: 0.9, within: 30m}
procedures:
  - name: restart-api
    steps:
      - {name: restart, type: command, argv: [/bin/true]}
analytics:
  series: [disk_used_ratio]
"""


def test_every_flow_has_a_deployment_with_its_schedule():
    deployments = vigil_deployments(parse_config(FULL))
    schedules = {
        d.name: d.schedules[0].schedule.interval if d.schedules else None for d in deployments
    }
    assert schedules == {
        "collect": timedelta(minutes=5),
        "maintenance": timedelta(hours=1),
        "every-window": timedelta(minutes=5),
        "alert-sweep": timedelta(minutes=5),
        "self-watch": timedelta(minutes=1),
        "recover": None,  # on demand: the UI, the CLI and firing alerts
        "forecast": timedelta(minutes=15),
        "retrain": timedelta(hours=1),
    }


def test_no_deployment_lets_a_caller_choose_the_config_or_the_store():
    for deployment in vigil_deployments(parse_config(FULL)):
        schema = deployment._parameter_openapi_schema.model_dump(exclude_unset=True)
        chosen_by_caller = set(schema["properties"]) | set(deployment.parameters)
        assert not chosen_by_caller & {"config_path", "database_url", "db_url", "config"}
        assert schema["additionalProperties"] is False, deployment.name
        assert deployment.enforce_parameter_schema


def test_a_bare_config_serves_collection_and_vigils_watch_over_itself():
    names = [d.name for d in vigil_deployments(parse_config(""))]
    assert names == ["collect", "maintenance", "alert-sweep", "self-watch"]
    quiet = vigil_deployments(parse_config("self_watch: {enabled: false}"))
    assert [d.name for d in quiet] == ["collect", "maintenance"]


def test_watched_processes_alone_schedule_the_leak_scores():
    watching = "collectors: {processes: {watch: [{name: web, process_name: nginx}]}}"
    names = [d.name for d in vigil_deployments(parse_config(watching))]
    assert "forecast" in names
    quiet = watching + "\nanalytics: {leak_detection: false}"
    names = [d.name for d in vigil_deployments(parse_config(quiet))]
    assert "forecast" not in names
