from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.vocabulary.durations import (
    MAX_DURATION,
    format_duration,
    parse_duration,
    seconds_to_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("7d", 604800), ("500ms", 0.5), ("2w", 1209600)],
)
def test_it_reads_operator_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["5 seconds", "", "5", "m5", "1h 30x", "-5s"])
def test_it_explains_how_to_write_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration; write it like 30s, 5m"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**10))
def test_formatted_durations_read_back(millis):
    delta = timedelta(milliseconds=millis)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("99999999999999d", "is too long; the longest duration is 36500d"),
        ("36501d", "is too long"),
        ("1" * 65 + "s", "is not a duration"),
    ],
)
def test_it_refuses_durations_that_overflow_clocks(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (float("inf"), "too long"),
        (float("nan"), "not a duration"),
        (-1, "negative"),
        (10**400, "too long"),
    ],
)
def test_numbers_of_seconds_are_bounded_too(seconds, message):
    with pytest.raises(ValueError, match=message):
        seconds_to_duration(seconds)


@given(st.text(max_size=80))
def test_any_text_is_a_duration_or_a_value_error(text):
    try:
        delta = parse_duration(text)
    except ValueError:
        return
    assert timedelta(0) <= delta <= MAX_DURATION
