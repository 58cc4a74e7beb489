"""deployments/prefect.yaml says what the catalog serves, for a process work pool."""

import importlib
import pkgutil

import yaml
from prefect import Flow
from prefect.flows import load_flow_from_entrypoint
from typer.testing import CliRunner

import flows
from deployments.workpool import PREFECT_YAML, example_prefect_yaml
from vigil.cli import app


def every_flow_entrypoint() -> set[str]:
    found = set()
    for module_info in pkgutil.iter_modules(flows.__path__):
        module = importlib.import_module(f"flows.{module_info.name}")
        found |= {
            f"{module.__name__}.{name}"
            for name, value in vars(module).items()
            if isinstance(value, Flow) and value.__module__ == module.__name__
        }
    return found


def test_the_checked_in_prefect_yaml_is_generated_from_the_catalog():
    assert PREFECT_YAML.read_text() == example_prefect_yaml(), (
        "deployments/prefect.yaml is stale: run `python -m deployments.workpool`"
    )


def test_prefect_yaml_deploys_every_flow_to_the_process_pool():
    document = yaml.safe_load(PREFECT_YAML.read_text())
    entries = document["deployments"]
    assert {entry["entrypoint"] for entry in entries} == every_flow_entrypoint()
    assert {entry["work_pool"]["name"] for entry in entries} == {"vigil"}
    assert document["pull"] == []  # workers import the installed Vigil


def test_each_entry_loads_its_flow_and_its_parameters_validate_without_config_or_store():
    document = yaml.safe_load(PREFECT_YAML.read_text())
    asked_at_run_time = {"recover": {"procedure": "restart-web", "target": "web-1"}}
    for entry in document["deployments"]:
        flow = load_flow_from_entrypoint(entry["entrypoint"])
        parameters = {**entry["parameters"], **asked_at_run_time.get(entry["name"], {})}
        validated = flow.validate_parameters(parameters)
        assert not {"config_path", "database_url", "db_url", "config"} & set(validated)
        assert entry["enforce_parameter_schema"] is True


def test_vigil_deploy_writes_the_prefect_yaml_of_the_given_config(tmp_path):
    config = tmp_path / "vigil.yaml"
    config.write_text("procedures:\n  - {name: p, steps: [{type: command, argv: [/bin/true]}]}\n")
    out = tmp_path / "prefect.yaml"
    args = ["deploy", "--config", str(config), "--pool", "site-a", "--write", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    entries = yaml.safe_load(out.read_text())["deployments"]
    assert [(e["name"], e["work_pool"]["name"]) for e in entries] == [
        ("collect", "site-a"),
        ("maintenance", "site-a"),
        ("alert-sweep", "site-a"),  # the built-in Vigil* rules
        ("self-watch", "site-a"),
        ("recover", "site-a"),
    ]
    for entry in entries:  # workers bring config and store; only a sweep's timing is fixed
        assert not {"config_path", "database_url", "db_url", "config"} & set(entry["parameters"])
