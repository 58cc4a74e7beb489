"""promtool (the Prometheus package's own client) reads Vigil's series through /prometheus.

promtool 2.42's ``query`` commands cannot send a bearer header, so they present the viewer
token as the Basic-auth password in the URL (``http://vigil:TOKEN@host/prometheus``).
"""

import json
import subprocess
import time
from importlib.metadata import version

import httpx
import pytest

from models.config.dashboard import Role
from models.db import make_engine
from models.metrics import MetricKind
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tests.api.conftest import Server, compat_app

STEP = 15.0
# Two counters that rise steadily (10 and 20 per 15 s scrape) and a gauge, for 10 minutes.
SLOPES = {"a": 10.0, "b": 20.0}


def promtool(*args: str) -> object:
    """Run ``promtool query ...`` with JSON output; return what it printed, parsed."""
    done = subprocess.run(
        ["promtool", "query", *args, "-o", "json"], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def vigil(tmp_path_factory, password_hash):  # type: ignore[no-untyped-def]
    """Vigil's API app over a SQLite store holding the counters.

    Yields (promtool's URL, carrying the viewer token; the last instant; the plain URL; the
    viewer's bearer header for ``httpx``).

    One per module: the store's reads are tested on both databases in tests/store.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('prom') / 'vigil.db'}"
    upgrade(url)
    store = MetricStore(make_engine(url))
    end = float(int(time.time() // STEP) * STEP)
    samples = []
    for i in range(41):
        at = end - (40 - i) * STEP
        for instance, slope in SLOPES.items():
            labels = {"job": "api", "instance": instance}
            samples.append(
                NewSample("http_requests_total", labels, at, 1000 + slope * i, MetricKind.COUNTER)
            )
        samples.append(NewSample("queue_depth", {"job": "worker"}, at, float(i % 4)))
    assert not store.write(samples).rejected
    app, tokens = compat_app(store, "rules: []\n", password_hash)
    served = Server(app)
    with_token = served.url.replace("http://", f"http://vigil:{tokens[Role.VIEWER]}@")
    bearer = {"Authorization": f"Bearer {tokens[Role.VIEWER]}"}
    yield with_token + "/prometheus", end, served.url + "/prometheus", bearer
    served.close()
    store.engine.dispose()


def test_promtool_query_instant_reads_a_sum_by_of_rates(vigil) -> None:  # type: ignore[no-untyped-def]
    url, end, _, _ = vigil
    # Steady counters: rate is the slope per second, 10/15 + 20/15 = 2 per second.
    found = promtool(
        "instant", f"--time={end:.0f}", url, "sum by (job) (rate(http_requests_total[1m]))"
    )
    assert found == [{"metric": {"job": "api"}, "value": [end, "2"]}]
    raw = promtool("instant", f"--time={end:.0f}", url, 'http_requests_total{instance=~"a|c"}')
    assert raw == [
        {
            "metric": {"__name__": "http_requests_total", "instance": "a", "job": "api"},
            "value": [end, "1400"],
        }
    ]


def test_promtool_query_range_reads_raw_points_and_an_over_time_function(vigil) -> None:  # type: ignore[no-untyped-def]
    url, end, _, _ = vigil
    start = end - 4 * STEP
    span = [f"--start={start:.0f}", f"--end={end:.0f}", "--step=15s"]
    found = promtool("range", *span, url, 'queue_depth{job!="api"}')
    assert found[0]["metric"] == {"__name__": "queue_depth", "job": "worker"}
    assert found[0]["values"] == [[start + k * STEP, str((36 + k) % 4)] for k in range(5)]
    # max over the last minute (4 samples: 3 of them differ) is 3 at every step
    peak = promtool("range", *span, url, "max_over_time(queue_depth[1m])")
    assert [v for _, v in peak[0]["values"]] == ["3"] * 5
    doubled = promtool("range", *span, url, 'increase(http_requests_total{instance="b"}[1m]) * 2')
    assert [v for _, v in doubled[0]["values"]] == ["160"] * 5  # 20 per 15 s = 80 a minute


def test_promtool_lists_series_and_label_values(vigil) -> None:  # type: ignore[no-untyped-def]
    url, end, _, _ = vigil
    series = promtool("series", "--match=http_requests_total", url)
    assert sorted(s["instance"] for s in series) == ["a", "b"]
    assert promtool("labels", url, "__name__") == ["http_requests_total", "queue_depth"]
    later = f"--start={end + 3600:.0f}"  # nothing stored after the last sample
    assert promtool("series", "--match=http_requests_total", later, url) == []
    assert promtool("labels", later, url, "__name__") == []


def test_metadata_gives_each_metrics_type_and_buildinfo_names_vigil(vigil) -> None:  # type: ignore[no-untyped-def]
    _, _, plain, bearer = vigil
    answer = httpx.get(f"{plain}/api/v1/metadata", headers=bearer)
    assert answer.json() == {
        "status": "success",
        "data": {
            "http_requests_total": [{"type": "counter", "help": "", "unit": ""}],
            "queue_depth": [{"type": "gauge", "help": "", "unit": ""}],
        },
    }
    one = httpx.get(f"{plain}/api/v1/metadata", params={"metric": "queue_depth"}, headers=bearer)
    assert list(one.json()["data"]) == ["queue_depth"]
    build = httpx.get(f"{plain}/api/v1/status/buildinfo", headers=bearer).json()
    assert build["status"] == "success" and build["data"]["version"] == version("vigil")


def test_an_unsupported_query_is_refused_as_bad_data_with_the_reason(vigil) -> None:  # type: ignore[no-untyped-def]
    url, end, plain, bearer = vigil
    answer = httpx.post(
        f"{plain}/api/v1/query",
        data={"query": "topk(1, queue_depth)", "time": str(end)},
        headers=bearer,
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "error",
        "errorType": "bad_data",
        "error": "aggregation 'topk' is not supported; Vigil evaluates sum, avg, min, max, count",
    }
    done = subprocess.run(
        ["promtool", "query", "instant", url, "rate(queue_depth[1m:10s])"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode != 0 and "subqueries are not supported" in done.stderr
    bad_time = httpx.get(
        f"{plain}/api/v1/query_range",
        params={"query": "up", "start": "x", "end": "1", "step": "1"},
        headers=bearer,
    )
    assert bad_time.status_code == 400 and "start: cannot parse 'x'" in bad_time.json()["error"]


def test_the_query_api_without_a_token_is_refused_401(vigil) -> None:  # type: ignore[no-untyped-def]
    _, end, plain, _ = vigil
    answer = httpx.get(f"{plain}/api/v1/query", params={"query": "queue_depth", "time": str(end)})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["reason"] == "send a bearer token: Authorization: Bearer <token>"
    done = subprocess.run(
        ["promtool", "query", "instant", plain, "queue_depth"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode != 0 and "401" in done.stderr
