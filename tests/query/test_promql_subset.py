"""The PromQL subset against values computed by hand, and its refusals."""

import math

import numpy as np
import pytest

from models.errors import QueryError
from tasks.core.query.evaluate import EvaluationError, SeriesPoints, evaluate, reads
from tasks.core.query.language import parse_query
from tasks.core.query.params import parse_step, parse_time, step_times
from tasks.core.query.results import format_value, instant_data, range_data

# A counter scraped every 15 s that restarts between t=30 and t=45.
COUNTER = [(0, 0.0), (15, 30.0), (30, 60.0), (45, 10.0), (60, 40.0)]
GAUGES = [
    ({"job": "x", "i": "1"}, 1.0),
    ({"job": "x", "i": "2"}, 2.0),
    ({"job": "y", "i": "3"}, 5.0),
]


def points(name: str, labels: dict, samples: list[tuple[float, float]]) -> SeriesPoints:
    ts, values = zip(*samples, strict=True)
    return SeriesPoints({"__name__": name, **labels}, np.array(ts, float), np.array(values))


def data() -> list[SeriesPoints]:
    found = [points("requests_total", {"job": "api"}, COUNTER)]
    found += [points("load", labels, [(50, v)]) for labels, v in GAUGES]
    found.append(points("temp", {"room": "a"}, [(10, 1.0), (20, 2.0), (30, 6.0)]))
    found.append(points("fresh_total", {}, [(10, 1.0), (20, 11.0), (30, 21.0)]))
    return found


def run(query: str, at: float) -> dict[tuple, float] | float:
    """Evaluate ``query`` at ``at``: {sorted labels: value}, or the scalar."""
    node = parse_query(query)
    fetched = {
        r.selector: [p for p in data() if r.selector.matches(p.labels["__name__"], p.labels)]
        for r in reads(node)
    }
    value = evaluate(node, fetched, np.array([float(at)]))
    if isinstance(value, np.ndarray):
        return float(value[0])
    return {tuple(sorted(s.labels.items())): float(s.values[0]) for s in value if s.present[0]}


def only(result: dict | float) -> float:
    assert isinstance(result, dict) and len(result) == 1, result
    return next(iter(result.values()))


def test_rate_adds_back_a_counter_reset_and_extrapolates_to_the_window_edge() -> None:
    # Window (0, 60]: 30, 60, 10, 40. Rise 40 - 30 plus 60 lost at the reset = 70 over 45 s
    # sampled; the first sample is 15 s (< 1.1 x the 15 s gap) after the window start, so
    # it extrapolates to the full 60 s: 70 * 60 / 45.
    assert only(run("increase(requests_total[1m])", 60)) == pytest.approx(70 * 60 / 45)
    assert only(run("rate(requests_total[1m])", 60)) == pytest.approx(70 / 45)


def test_rate_does_not_extrapolate_a_counter_below_zero() -> None:
    # Window (0, 30]: 1, 11, 21. Rise 20 over 20 s; the start is 10 s away, but at this
    # pace the counter was 0 only 1 s before its first sample: extrapolate 1 s, not 10.
    assert only(run("increase(fresh_total[30s])", 30)) == pytest.approx(20 * 21 / 20)
    # The whole restarted counter from 0: 40 + 60 lost at the reset, nothing to extrapolate.
    assert only(run("increase(requests_total[2m])", 60)) == pytest.approx(100.0)
    assert only(run("rate(requests_total[2m])", 60)) == pytest.approx(100.0 / 120)


def test_irate_uses_the_last_two_samples_and_a_reset_restarts_from_zero() -> None:
    assert only(run("irate(requests_total[1m])", 60)) == pytest.approx(30 / 15)
    assert only(run("irate(requests_total[1m])", 45)) == pytest.approx(10 / 15)


def test_rate_needs_two_samples_in_the_window() -> None:
    assert run("rate(requests_total[10s])", 60) == {}


def test_sum_avg_min_max_count_by_a_label() -> None:
    by_job = {
        "sum": {"x": 3.0, "y": 5.0},
        "avg": {"x": 1.5, "y": 5.0},
        "min": {"x": 1.0, "y": 5.0},
        "max": {"x": 2.0, "y": 5.0},
        "count": {"x": 2.0, "y": 1.0},
    }
    for op, expected in by_job.items():
        result = run(f"{op} by (job) (load)", 60)
        assert result == {(("job", j),): v for j, v in expected.items()}, op


def test_without_drops_the_named_labels_and_the_metric_name() -> None:
    assert run("sum without (i) (load)", 60) == {(("job", "x"),): 3.0, (("job", "y"),): 5.0}
    assert run("sum(load)", 60) == {(): 8.0}


def test_over_time_functions() -> None:
    window = "temp[30s]"  # (0, 30]: 1, 2, 6
    expected = {
        "avg": 3.0,
        "min": 1.0,
        "max": 6.0,
        "sum": 9.0,
        "count": 3.0,
        "last": 6.0,
        "present": 1.0,
        "stdvar": 14 / 3,
        "stddev": math.sqrt(14 / 3),
    }
    for kind, value in expected.items():
        assert only(run(f"{kind}_over_time({window})", 30)) == pytest.approx(value), kind
    assert only(run(f"quantile_over_time(0.5, {window})", 30)) == 2.0
    # last_over_time keeps the metric name, the others drop it
    assert run(f"last_over_time({window})", 30) == {(("__name__", "temp"), ("room", "a")): 6.0}


def test_arithmetic_with_scalars_drops_the_name() -> None:
    assert run('load{i="3"} * 2 + 1', 60) == {(("i", "3"), ("job", "y")): 11.0}
    assert run('10 - load{i="3"}', 60) == {(("i", "3"), ("job", "y")): 5.0}
    assert run('-load{i="3"} ^ 2', 60) == {(("i", "3"), ("job", "y")): -25.0}
    assert run("(1 + 2) * 4 % 5", 0) == 2.0


def test_comparisons_filter_or_answer_zero_and_one_with_bool() -> None:
    assert run("load > 1", 60) == {
        (("__name__", "load"), ("i", "2"), ("job", "x")): 2.0,
        (("__name__", "load"), ("i", "3"), ("job", "y")): 5.0,
    }
    assert run("2 < load", 60) == {(("__name__", "load"), ("i", "3"), ("job", "y")): 5.0}
    assert run('load{job="x"} > bool 1', 60) == {
        (("i", "1"), ("job", "x")): 0.0,
        (("i", "2"), ("job", "x")): 1.0,
    }


def test_two_vectors_are_matched_one_to_one_on_their_labels() -> None:
    # load{job="x", i="1"} = 1, i="2" = 2; job="y", i="3" = 5; sum by (job): x=3, y=5
    assert run("load / load", 60) == {
        (("i", "1"), ("job", "x")): 1.0,
        (("i", "2"), ("job", "x")): 1.0,
        (("i", "3"), ("job", "y")): 1.0,
    }
    with pytest.raises(EvaluationError, match="duplicate series for the match group"):
        run("load / on(job) sum by (job) (load)", 60)  # two per job on the left: many-to-one
    assert run('load{i!="2"} / on(job) sum by (job) (load)', 60) == {
        (("job", "x"),): pytest.approx(1 / 3),
        (("job", "y"),): 1.0,
    }
    assert run("sum by (job) (load) > on(job) count by (job) (load) * 2", 60) == {
        (("job", "y"),): 5.0
    }
    assert run('load{i="3"} - ignoring(i) sum by (job) (load)', 60) == {(("job", "y"),): 0.0}


def test_selectors_use_all_four_matchers_and_a_five_minute_lookback() -> None:
    assert len(run('load{job="x"}', 60)) == 2
    assert len(run('load{job!="x"}', 60)) == 1
    assert len(run('load{i=~"1|3"}', 60)) == 2
    assert len(run('load{i!~"1|3"}', 60)) == 1
    assert len(run('{__name__=~"lo.*"}', 60)) == 3
    assert len(run("load", 50 + 299)) == 3
    assert run("load", 50 + 300) == {}  # the sample is exactly 5 minutes old: gone
    assert len(run("load offset 1m", 110)) == 3


def test_a_range_query_is_a_matrix_with_gaps_where_series_are_absent() -> None:
    node = parse_query("sum(load)")
    fetched = {
        r.selector: [p for p in data() if p.labels["__name__"] == "load"] for r in reads(node)
    }
    times = np.array(step_times(0, 100, 50))
    shaped = range_data(evaluate(node, fetched, times), times)
    assert shaped == {
        "resultType": "matrix",
        "result": [{"metric": {}, "values": [[50.0, "8"], [100.0, "8"]]}],
    }
    scalar = range_data(evaluate(parse_query("1 + 1"), {}, times), times)
    assert scalar["result"] == [{"metric": {}, "values": [[0.0, "2"], [50.0, "2"], [100.0, "2"]]}]
    assert instant_data(evaluate(parse_query("3"), {}, np.array([7.0])), 7.0) == {
        "resultType": "scalar",
        "result": [7.0, "3"],
    }


def test_two_series_that_collide_after_dropping_the_name_are_an_execution_error() -> None:
    with pytest.raises(EvaluationError, match="same labelset"):
        node = parse_query('-{__name__=~"load|other"}')
        twins = [points("load", {"a": "1"}, [(0, 1.0)]), points("other", {"a": "1"}, [(0, 2.0)])]
        evaluate(node, {r.selector: twins for r in reads(node)}, np.array([0.0]))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("topk(3, load)", "aggregation 'topk' is not supported"),
        ("histogram_quantile(0.9, load)", "function 'histogram_quantile' is not supported"),
        ("load / on(job) group_left load", "group_left/group_right"),
        ("load and load", "operator 'and' is not supported"),
        ("rate(load[5m:1m])", "subqueries are not supported"),
        ("load[5m:1m]", "subqueries are not supported"),
        ("load @ 100", "the @ modifier is not supported"),
        ('load{a="b" or c="d"}', "'or' inside a selector"),
        ("1 > 2", "comparisons between scalars must use BOOL"),
        ("sum(", "cannot parse the query"),
        ("rate(load)", "cannot parse the query: expected type matrix"),
        ("", "the query is empty"),
        ('"text"', "string literals are not supported"),
        ("sum(rate(load[1m])) - load[1m]", "only scalar and instant vector types"),
    ],
)
def test_unsupported_queries_are_refused_with_the_reason(query: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        parse_query(query)


def test_parameters_are_read_as_prometheus_reads_them() -> None:
    assert parse_time("time", "2026-12-05T00:00:00.5Z") == 1796428800.5
    assert parse_step("30s") == parse_step("30") == 30.0
    for bad, reason in [("soon", "cannot parse"), ("2026-12-05T00:00:00", "no time zone")]:
        with pytest.raises(QueryError, match=reason):
            parse_time("time", bad)
    with pytest.raises(QueryError, match="zero or negative"):
        parse_step("-5")
    with pytest.raises(QueryError, match="maximum resolution of 11000 points"):
        step_times(0, 86_400 * 7, 1)


def test_values_are_written_as_prometheus_writes_them() -> None:
    assert [format_value(v) for v in (1.5, -math.inf, 1e21, 100.0)] == [
        "1.5",
        "-Inf",
        "1000000000000000000000",
        "100",
    ]
