import math

from tasks.core.collect.exposition import parse_exposition

PAGE = r"""# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000
# TYPE temperature gauge
temperature{room="a \"big\" one\\x",note="line\nbreak"} -3.5
# TYPE rpc_seconds histogram
rpc_seconds_bucket{le="0.1"} 5
rpc_seconds_bucket{le="+Inf"} 9
rpc_seconds_sum 3.2
rpc_seconds_count 9
# TYPE lag summary
lag{quantile="0.5"} NaN
lag_sum 0
lag_count 0
untyped_thing{a="1",} +Inf
"""


def test_a_page_of_every_family_type_becomes_samples_with_kinds():
    page = parse_exposition(PAGE)
    assert page.problems == []
    kinds = {(s.name, s.labels.get("le") or s.labels.get("quantile")): s.kind for s in page.samples}
    assert kinds == {
        ("http_requests_total", None): "counter",
        ("temperature", None): "gauge",
        ("rpc_seconds_bucket", "0.1"): "counter",
        ("rpc_seconds_bucket", "+Inf"): "counter",
        ("rpc_seconds_sum", None): "counter",
        ("rpc_seconds_count", None): "counter",
        ("lag", "0.5"): "gauge",
        ("lag_sum", None): "counter",
        ("lag_count", None): "counter",
        ("untyped_thing", None): "gauge",
    }
    first = page.samples[0]
    assert (first.labels, first.value, first.timestamp_ms) == (
        {"method": "get", "code": "200"},
        1027.0,
        1395066363000,
    )
    assert page.samples[2].labels == {"room": 'a "big" one\\x', "note": "line\nbreak"}
    assert math.isnan(page.samples[7].value)
    assert page.samples[-1].value == math.inf and page.samples[-1].labels == {"a": "1"}


def test_bad_lines_are_reported_with_line_numbers_and_good_ones_kept():
    page = parse_exposition(
        'ok 1\nbad-name 2\nx{a="1" 3\ny 1_000\nz 1 2 3\nw{a="1",a="2"} 1\nt 1 12.5\nv\n'
    )
    assert [s.name for s in page.samples] == ["ok"]
    assert [(p.line, p.reason) for p in page.problems] == [
        (2, "metric name 'bad-name' must match [a-zA-Z_:][a-zA-Z0-9_:]*"),
        (3, "the labels are not closed with }"),
        (4, "value '1_000' is not a number"),
        (5, "expected a value and an optional timestamp, got '1 2 3'"),
        (6, "label 'a' appears twice"),
        (7, "timestamp '12.5' is not whole milliseconds"),
        (8, "no value after the metric name"),
    ]


def test_empty_label_braces_and_blank_lines_are_fine():
    page = parse_exposition("\n\nup{} 1\n   \n")
    assert [(s.name, s.labels, s.value) for s in page.samples] == [("up", {}, 1.0)]


def test_malformed_label_blocks_are_refused():
    page = parse_exposition('a{x="1" y="2"} 1\nb{="1"} 1\nc{x=1} 1\nd{x="}"} 2\n')
    assert [(s.name, s.labels) for s in page.samples] == [("d", {"x": "}"})]
    assert [p.line for p in page.problems] == [1, 2, 3]
    assert page.problems[0].reason == 'cannot read the labels {x="1" y="2"}'


def test_lines_read_the_quick_way_are_judged_like_the_first():
    page = (
        'x{a="b"} 1 1700000000000\n'
        'x{a="b"} 2 1700000000001\n'  # same name and labels: the quick path
        'x{a="b"}3\n'  # no space before the value
        'x{a="b"} 4_0\n'
        'x{a="b"} 5 17e3\n'
        'x{a="b"} 6 --7\n'
        'x{a="b"} 7 1 2\n'
        "x 8\n"
        "x 9\n"
    )
    out = parse_exposition(page)
    assert [(s.value, s.timestamp_ms) for s in out.samples] == [
        (1.0, 1700000000000),
        (2.0, 1700000000001),
        (8.0, None),
        (9.0, None),
    ]
    assert [p.line for p in out.problems] == [3, 4, 5, 6, 7]
