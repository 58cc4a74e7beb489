"""Schemathesis over the whole OpenAPI document of a served API: no 5xx, a reason in every 4xx.

Requests carry an admin token, so every route is reached past authentication; the store
holds an alert and a day of samples so that reads find something. Bounded: a few examples
per operation (the whole module runs in seconds).
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from models.config.dashboard import Role
from models.migrate import upgrade
from tests.api.conftest import Api, day_of_samples, firing_alert, start_api

# A few per operation keeps the module at seconds; raise it for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Iterator[Api]:
    from tests.api.conftest import CONFIG, PUSH_TOKEN

    root = tmp_path_factory.mktemp("fuzz")
    config_path = root / "vigil.yaml"
    config_path.write_text(CONFIG.format(hash=password_hash, push=PUSH_TOKEN))
    url = f"sqlite:///{Path(root) / 'fuzz.db'}"
    upgrade(url)
    api, server = start_api(url, config_path)
    firing_alert(api.store)
    day_of_samples(api.store, step_s=600)
    yield api
    server.close()
    api.store.engine.dispose()


def has_a_reason(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx says why, in JSON."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and body.get("reason"), (response.status_code, body)


def test_no_request_gets_a_5xx_and_every_4xx_has_a_reason(fuzzed_api: Api) -> None:
    # One test over every operation (schemathesis' lazy pytest loader does not run on pytest 9).
    schema = schemathesis.openapi.from_url(f"{fuzzed_api.url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed_api.tokens[Role.ADMIN]}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error, has_a_reason])

        fuzz()
    assert len(operations) >= 30  # the whole document, push included
