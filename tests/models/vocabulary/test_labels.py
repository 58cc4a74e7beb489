from hypothesis import given
from hypothesis import strategies as st

from models.vocabulary.labels import canonical_labels, label_set_problem, parse_canonical

label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True).filter(
    lambda n: not n.startswith("__")
)
label_sets = st.dictionaries(label_names, st.text(max_size=20), max_size=8)


@given(label_sets, st.randoms())
def test_canonical_text_does_not_depend_on_label_order(labels, rnd):
    items = list(labels.items())
    rnd.shuffle(items)
    assert canonical_labels(dict(items)) == canonical_labels(labels)


@given(label_sets)
def test_canonical_text_reads_back_to_the_same_labels(labels):
    assert parse_canonical(canonical_labels(labels)) == labels


@given(label_sets, label_sets)
def test_different_label_sets_have_different_canonical_text(a, b):
    assert (canonical_labels(a) == canonical_labels(b)) == (a == b)


def test_it_names_the_bad_label():
    assert label_set_problem("cpu", {"bad-name": "x"}) == (
        "label name 'bad-name' must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"
    )
    assert "label values are strings" in label_set_problem("cpu", {"core": 3})
    assert label_set_problem("node_cpu_seconds_total", {"cpu": "0"}) is None
