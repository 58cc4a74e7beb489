"""Schemathesis over the whole OpenAPI document of a served API: no 5xx, a reason in every 4xx.

The API runs as `vigil api serve` in a process of its own. Requests carry an admin token, so
every route is reached past authentication; the store holds an alert and a day of samples so
that reads find something. Bounded: a few examples per operation.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from models.config import load_config
from models.config.dashboard import Role
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tests.api.conftest import (
    CONFIG,
    PUSH_TOKEN,
    Api,
    api_process,
    day_of_samples,
    firing_alert,
    make_tokens,
)
from tests.ports import free_port

# A few per operation keeps the module at seconds; raise it for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Iterator[Api]:
    """`vigil api serve` in a process of its own over a SQLite file with an alert and samples."""
    root = tmp_path_factory.mktemp("fuzz")
    config_path = root / "vigil.yaml"
    config_path.write_text(CONFIG.format(hash=password_hash, push=PUSH_TOKEN, port=free_port()))
    url = f"sqlite:///{root / 'fuzz.db'}"
    upgrade(url)
    store = MetricStore(make_engine(url))
    config = load_config(config_path)
    tokens = make_tokens(store, config)
    firing_alert(store)
    day_of_samples(store, step_s=600)
    with api_process(url, config_path) as base:
        yield Api(base, store, config, tokens)
    store.engine.dispose()


def has_a_reason(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx says why, in JSON: Vigil's ``reason``, or in the compatibility APIs their
    protocol's own shape (Prometheus ``{"error": ...}``, Alertmanager a JSON string)."""
    if 400 <= response.status_code < 500:
        body = response.json()
        if isinstance(body, dict):
            why = body.get("reason") or (case.path.startswith("/prometheus/") and body.get("error"))
        else:
            why = case.path.startswith("/alertmanager/") and isinstance(body, str) and body
        assert why, (response.status_code, body)


def test_no_request_gets_a_5xx_and_every_4xx_has_a_reason(fuzzed_api: Api) -> None:
    # One test over every operation (schemathesis' lazy pytest loader does not run on pytest 9).
    schema = schemathesis.openapi.from_url(f"{fuzzed_api.url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed_api.tokens[Role.ADMIN]}"}
    # /readyz answers 503 by design while a dependency is down (here: no Prefect API);
    # tests/api/test_server.py checks its reasons.
    operations = [
        op for op in map(lambda r: r.ok(), schema.get_all_operations()) if op.path != "/readyz"
    ]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error, has_a_reason])

        fuzz()
    assert len(operations) >= 30  # the whole document but /readyz, push included
