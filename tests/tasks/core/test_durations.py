from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.core.durations import format_duration, parse_duration


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
