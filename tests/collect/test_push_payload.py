from datetime import UTC, datetime, timedelta

import pytest

from tasks.core.collect.push_payload import decode_json, decode_text

NOW = datetime(2026, 6, 1, tzinfo=UTC)
AHEAD = timedelta(minutes=5)


def test_json_samples_are_checked_one_by_one():
    payload = {
        "samples": [
            {"name": "jobs_total", "labels": {"q": "mail"}, "value": 3, "kind": "counter"},
            {"name": "temp", "value": "hot"},
            {"name": "temp", "value": float("nan")},
            {"name": "temp", "value": 1, "ts": NOW.timestamp() + 3600},
            {"name": "temp", "value": True},
            {"name": "bad name", "value": 1},
            {"name": "temp", "value": 1, "labels": {"a": 1}},
            {"name": "temp", "value": 1, "kind": "histogram"},
            {"name": "temp", "value": 1, "colour": "red"},
            "not an object",
            {"name": "temp", "value": 2.5, "ts": NOW.timestamp() - 60},
        ]
    }
    out = decode_json(payload, now=NOW, max_ahead=AHEAD)
    assert [(s.name, s.value, s.ts, s.kind) for s in out.samples] == [
        ("jobs_total", 3.0, NOW.timestamp(), "counter"),
        ("temp", 2.5, NOW.timestamp() - 60, "gauge"),
    ]
    assert [out.where(o) for o in out.origins] == ["samples[0]", "samples[10]"]
    assert [(r.where, r.reason) for r in out.refusals] == [
        ("samples[1]", "value must be a number, got str 'hot'"),
        ("samples[2]", "value is NaN; send a number or leave the sample out"),
        (
            "samples[3]",
            "timestamp is too far in the future (3300s beyond the allowed skew); "
            "check the sender's clock",
        ),
        ("samples[4]", "value must be a number, got bool True"),
        ("samples[5]", "metric name 'bad name' must match [a-zA-Z_:][a-zA-Z0-9_:]*"),
        ("samples[6]", "label 'a' has a int value; label values are strings"),
        ("samples[7]", "kind 'histogram' is not one of gauge, counter"),
        ("samples[8]", "unknown field(s) 'colour'"),
        ("samples[9]", "a sample must be an object, got str"),
    ]


@pytest.mark.parametrize("payload", [[], {"samples": {}}, {"points": []}, None])
def test_a_json_body_of_the_wrong_shape_is_refused_as_a_whole(payload):
    with pytest.raises(ValueError, match='an object with a "samples" list'):
        decode_json(payload, now=NOW, max_ahead=AHEAD)


def test_text_timestamps_are_milliseconds_and_refusals_name_the_line():
    future_ms = int((NOW.timestamp() + 3600) * 1000)
    body = f"a 1 {int(NOW.timestamp() * 1000) - 1000}\nb NaN\nc 2 {future_ms}\nd{{x=}} 1\ne 3\n"
    out = decode_text(body, now=NOW, max_ahead=AHEAD)
    assert [(s.name, s.ts) for s in out.samples] == [
        ("a", NOW.timestamp() - 1),
        ("e", NOW.timestamp()),
    ]
    assert [r.where for r in out.refusals] == ["line 4", "line 2", "line 3"]
