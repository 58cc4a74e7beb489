from datetime import UTC, datetime

import httpx
import pytest

from models.config.collectors import ScrapeTarget
from tasks.collect.scrape import scrape
from tasks.core.collect.rates import counter_rate

PAGE = """# TYPE app_requests counter
app_requests_total{path="/",job="exposed"} 10
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{le="0.5"} 4
app_latency_seconds_bucket{le="+Inf"} 6
app_latency_seconds_sum 2.5
app_latency_seconds_count 6
# TYPE app_queue_seconds summary
app_queue_seconds{quantile="0.9"} NaN
app_queue_seconds_sum 0
app_queue_seconds_count 0
# TYPE app_temperature gauge
app_temperature 21.5 1700000000000
"""


def target(url: str, **extra) -> ScrapeTarget:
    return ScrapeTarget(job="app", url=url, labels={"env": "test"}, **extra)


def test_a_scrape_stores_every_family_with_job_and_instance(exposition_server, store):
    exposition_server.page = PAGE
    with httpx.Client() as client:
        out = scrape(target(exposition_server.url), client, now_s=1_800_000_000, base={"site": "x"})
    assert out.error is None
    by_name = {(s.name, s.labels.get("le")): s for s in out.samples}
    instance = exposition_server.url.split("/")[2]
    requests = by_name[("app_requests_total", None)]
    assert requests.labels == {
        "path": "/",
        "exported_job": "exposed",
        "site": "x",
        "env": "test",
        "job": "app",
        "instance": instance,
    }
    assert requests.kind == "counter" and requests.ts == 1_800_000_000
    assert by_name[("app_latency_seconds_bucket", "+Inf")].kind == "counter"
    assert by_name[("app_temperature", None)].ts == 1_700_000_000
    assert ("app_queue_seconds", None) not in by_name  # NaN quantile: nothing to store yet
    assert by_name[("up", None)].value == 1
    assert by_name[("scrape_duration_seconds", None)].value > 0
    assert by_name[("scrape_samples_scraped", None)].value == 8
    result = store.write(out.samples)
    assert result.rejected == [] and result.accepted == len(out.samples)
    assert [s.kind for s in store.find_series("app_latency_seconds_count")] == ["counter"]


@pytest.mark.parametrize("broken", ["http_500", "closed_port"])
def test_a_failed_scrape_is_up_zero_not_an_exception(exposition_server, broken):
    url = exposition_server.url
    if broken == "http_500":
        exposition_server.status = 500
    else:
        exposition_server.close()
    with httpx.Client() as client:
        out = scrape(target(url, timeout="1s"), client, now_s=1.0, base={})
    assert out.error
    assert {s.name: s.value for s in out.samples}["up"] == 0
    assert [s.name for s in out.samples] == [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
    ]


def test_node_exporter_is_scraped_and_its_counters_give_rates(node_exporter, store):
    node = ScrapeTarget(job="node", url=node_exporter)
    outs = []
    with httpx.Client() as client:
        for now_s in (1_800_000_000, 1_800_000_001):
            outs.append(scrape(node, client, now_s=now_s, base={}))
    assert all(o.error is None for o in outs)
    kinds = {s.name: s.kind for s in outs[0].samples}
    assert kinds["node_cpu_seconds_total"] == "counter"
    assert kinds["node_memory_MemAvailable_bytes"] == "gauge"
    assert kinds["go_gc_duration_seconds_count"] == "counter"  # a summary's count
    assert kinds["up"] == "gauge"
    for out in outs:
        result = store.write(out.samples)
        assert result.rejected == []
    cpu = store.find_series('node_cpu_seconds_total{job="node", mode="idle"}')
    assert cpu and cpu[0].labels["instance"] == node_exporter.split("/")[2]
    frame = store.query_range(
        'node_cpu_seconds_total{mode="idle", cpu="0"}',
        datetime.fromtimestamp(1_799_999_999, UTC),
        datetime.fromtimestamp(1_800_000_002, UTC),
    )
    rate = counter_rate(
        list(zip(frame["ts"].map(lambda t: t.timestamp()), frame["value"], strict=True))
    )
    assert rate is not None and 0 <= rate <= 1.5  # one core is idle at most 1 s per second
