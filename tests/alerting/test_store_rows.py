import copy

from tasks.alerting import store as repo
from tasks.core.alerting.lifecycle import AlertState, Lifecycle
from tests.alerting.helpers import T0, outbox, transitions, write

RULE = "rules:\n  - {name: Hot, series: temp, value: 80}\nalerting: {default: {group_wait: 0s}}\n"


def test_a_stale_writer_loses_the_compare_and_set(make_alert_engine, db_url):
    engine = make_alert_engine(RULE, url=db_url)
    write(engine, T0, [("temp", {"target": "a"}, 90.0)])
    with engine.db.begin() as conn:
        (mine,) = repo.load_in_states(conn, [AlertState.FIRING])
    theirs = copy.deepcopy(mine)
    mine.lifecycle = Lifecycle(AlertState.RESOLVED, fired_at=T0, resolved_at=T0 + 1)
    theirs.escalation_level = 3
    with engine.db.begin() as conn:
        assert repo.update_alert(conn, mine, T0 + 1)
        assert not repo.update_alert(conn, theirs, T0 + 1)  # read before mine was written


def test_two_engines_on_one_store_record_a_transition_and_notify_once(make_alert_engine, webhook):
    text = RULE + f"channels:\n  - {{name: hook, url: '{webhook.url}'}}\n"
    first = make_alert_engine(text)
    second = make_alert_engine(text)
    write(first, T0, [("temp", {"target": "a"}, 90.0)])
    write(second, T0 + 1, [("temp", {"target": "a"}, 91.0)])
    second.sweep(T0 + 2)
    first.sweep(T0 + 2)
    assert transitions(first) == [("inactive", "firing")]
    assert [m["kind"] for m in outbox(first)] == ["firing"]
    assert webhook.titles() == ["[FIRING:1] Hot on a"]
