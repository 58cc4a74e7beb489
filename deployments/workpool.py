"""Every Vigil deployment on a process work pool: `vigil deploy`, and the same as prefect.yaml.

Both are built from ``deployments/catalog.py``, so they cannot drift from what `vigil serve`
runs. Entrypoints are module paths (``flows.recover.recover``): a worker needs Vigil
installed, not a copy of this checkout at a given path. The config and the store come from
each worker's own environment (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``), not from the
deployments nor the pool's job variables, which anyone who can read the API reads.
"""

from pathlib import Path
from typing import Any

import yaml
from prefect.deployments.runner import EntrypointType, RunnerDeployment

REPO = Path(__file__).resolve().parent.parent
POOL = "vigil"
EXAMPLE_CONFIG = Path(__file__).with_name("vigil.example.yaml")
PREFECT_YAML = Path(__file__).with_name("prefect.yaml")
HEADER = """\
# Vigil's deployments on a process work pool, generated from deployments/catalog.py for
# deployments/vigil.example.yaml by `python -m deployments.workpool`; do not edit
# (tests/deployments/test_workpool.py compares). `vigil deploy --write FILE` writes the
# one for your vigil.yaml. Deploy with:
#   prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml
# and start each worker with VIGIL_CONFIG_PATH and VIGIL_DATABASE_URL in its environment.
"""


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full (no &id001 anchors), for people to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def module_entrypoint(deployment: RunnerDeployment) -> str:
    """``flows/checks.py:run_checks`` (relative to the cwd) as ``flows.checks.run_checks``."""
    if deployment._entrypoint_type == EntrypointType.MODULE_PATH:
        return str(deployment.entrypoint)
    path, name = str(deployment.entrypoint).rsplit(":", 1)
    module = Path(path).resolve().relative_to(REPO).with_suffix("")
    return ".".join([*module.parts, name])


def pool_spec(deployment: RunnerDeployment, pool: str) -> dict[str, Any]:
    """One prefect.yaml ``deployments:`` entry for ``deployment`` on ``pool``."""
    spec: dict[str, Any] = {
        "name": deployment.name,
        "entrypoint": module_entrypoint(deployment),
        "description": (deployment.description or "").strip().split("\n")[0],
        "tags": list(deployment.tags),
        "parameters": deployment.parameters,
        "enforce_parameter_schema": deployment.enforce_parameter_schema,
        "work_pool": {"name": pool},
        "schedules": [_schedule(schedule.schedule) for schedule in deployment.schedules or []],
    }
    if deployment.concurrency_limit is not None:
        spec["concurrency_limit"] = deployment.concurrency_limit
    return spec


def _schedule(schedule: Any) -> dict[str, Any]:
    """A prefect.yaml schedule: an interval in seconds, or a cron line in its time zone."""
    if hasattr(schedule, "cron"):
        return {"cron": schedule.cron, "timezone": schedule.timezone}
    return {"interval": schedule.interval.total_seconds()}


def prefect_yaml(deployments: list[RunnerDeployment], pool: str = POOL) -> str:
    """The prefect.yaml text describing ``deployments`` on ``pool``."""
    import prefect

    document = {
        "name": "vigil",
        "prefect-version": prefect.__version__,
        "pull": [],  # nothing to fetch: the flows are imported from the installed Vigil
        "deployments": [pool_spec(d, pool) for d in deployments],
    }
    return HEADER + yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, width=100)


def ensure_process_pool(pool: str) -> bool:
    """Create the process work pool ``pool`` unless it exists; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
            return False
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(
                WorkPoolCreate(name=pool, type="process", base_job_template=template)
            )
            return True


def deploy_to_pool(deployments: list[RunnerDeployment], pool: str) -> list[str]:
    """Register ``deployments`` on the process work pool ``pool``; return their full names."""
    ensure_process_pool(pool)
    names = []
    for deployment in deployments:
        deployment.entrypoint = module_entrypoint(deployment)
        deployment._entrypoint_type = EntrypointType.MODULE_PATH
        deployment._path = None  # nothing to fetch: workers import the installed flows
        deployment.apply(work_pool_name=pool)
        names.append(f"{deployment.flow_name}/{deployment.name}")
    return names


def example_prefect_yaml() -> str:
    """deployments/prefect.yaml as it must read: the catalog for the example config."""
    from deployments.catalog import vigil_deployments
    from models.config import load_config

    return prefect_yaml(vigil_deployments(load_config(EXAMPLE_CONFIG)))


if __name__ == "__main__":
    PREFECT_YAML.write_text(example_prefect_yaml())
    print(f"wrote {PREFECT_YAML}")
