import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import MatcherError
from models.vocabulary.selectors import (
    LabelMatcher,
    MatchOp,
    Selector,
    label_matcher,
    parse_selector,
)


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,20}", fullmatch=True)
label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True)
regexes = st.from_regex(r"[a-z.*|]{0,10}", fullmatch=True).filter(_compiles)
matchers = st.one_of(
    st.builds(label_matcher, label_names, st.sampled_from(["=", "!="]), st.text(max_size=20)),
    st.builds(label_matcher, label_names, st.sampled_from(["=~", "!~"]), regexes),
)


selectors = st.builds(
    Selector, st.one_of(st.none(), names), st.lists(matchers, max_size=4).map(tuple)
).filter(lambda s: s.name is not None or s.matchers)


@given(selectors)
def test_printed_selectors_parse_back_to_the_same_selector(selector):
    assert parse_selector(str(selector)) == selector


def test_it_reads_every_operator():
    selector = parse_selector(
        'http_requests_total{job="api", code!="200", path=~"/v1/.*", method!~"GET|HEAD",}'
    )
    assert selector.name == "http_requests_total"
    assert [(m.label, m.op) for m in selector.matchers] == [
        ("job", MatchOp.EQ),
        ("code", MatchOp.NE),
        ("path", MatchOp.RE),
        ("method", MatchOp.NRE),
    ]


def test_regexes_match_the_whole_value_like_prometheus():
    selector = parse_selector('cpu{host=~"db"}')
    assert selector.matches("cpu", {"host": "db"})
    assert not selector.matches("cpu", {"host": "db-1"})


def test_an_absent_label_equals_the_empty_string():
    assert parse_selector('cpu{zone=""}').matches("cpu", {"host": "a"})
    assert not parse_selector('cpu{zone!=""}').matches("cpu", {"host": "a"})


def test_the_metric_name_can_be_matched_as_a_label():
    selector = parse_selector('{__name__=~"node_.*", cpu="0"}')
    assert selector.matches("node_cpu", {"cpu": "0"})
    assert not selector.matches("process_cpu", {"cpu": "0"})


def test_escaped_quotes_survive():
    selector = parse_selector(r'log{msg="say \"hi\"\n"}')
    assert selector.matchers[0] == LabelMatcher("msg", MatchOp.EQ, 'say "hi"\n')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('cpu{host="a"', r"expected ',' or '}' at position 13, found the end"),
        ("cpu{host=a}", r"expected a quoted string at position 10, found 'a'"),
        ('cpu{host~"a"}', r"expected one of = != =~ !~ at position 9, found '~'"),
        ('cpu{"a"}', r"expected a label name at position 5"),
        ("{}", r"it selects nothing"),
        ('cpu{host="a"} extra', r"expected the end of the selector at position 15"),
        ('cpu{host=~"("}', r"bad regular expression '\(' for label 'host'"),
        ('cpu{host="a}', r"expected a closing \" at position 13"),
        ("", r"expected a metric name or '\{' at position 1"),
    ],
)
def test_bad_selectors_say_where_and_what_was_expected(text, message):
    with pytest.raises(MatcherError, match=message):
        parse_selector(text)
