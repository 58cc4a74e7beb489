"""Pure incident decisions: which incident an alert joins, the likely cause, the ending."""

from tasks.core.alerting.incidents import (
    Member,
    OpenIncident,
    ending,
    incident_for,
    likely_cause,
)

UP = {"lb": set(), "db": set(), "web": {"db", "lb"}, "api": {"db"}, "cdn": set()}


def test_a_dependent_joins_its_parents_recent_incident_but_not_a_stale_one():
    parent = OpenIncident(1, (Member("db", "Down", 1000.0),))
    assert incident_for("api", 1100.0, [parent], UP, window_s=300) == 1
    assert incident_for("api", 1400.0, [parent], UP, window_s=300) is None


def test_an_unrelated_target_or_an_alert_without_target_opens_its_own_incident():
    parent = OpenIncident(1, (Member("db", "Down", 1000.0),))
    assert incident_for("cdn", 1010.0, [parent], UP, window_s=300) is None
    assert (
        incident_for("", 1010.0, [OpenIncident(2, (Member("", "X", 1000.0),))], UP, window_s=300)
        is None
    )


def test_the_cause_is_the_most_upstream_target_even_when_it_fired_last():
    members = [Member("web", "Down", 10.0), Member("api", "Down", 11.0), Member("db", "Down", 12.0)]
    assert likely_cause(members, UP).target == "db"


def test_two_upstream_targets_tie_to_the_earliest():
    members = [Member("web", "Down", 10.0), Member("lb", "Down", 12.0), Member("db", "Down", 11.0)]
    assert likely_cause(members, UP).target == "db"


def test_the_ending_prefers_a_fix_over_an_acknowledgement():
    assert ending(was_auto_fixed=True, was_acknowledged=True) == "auto-fixed"
    assert ending(was_auto_fixed=False, was_acknowledged=True) == "fixed by a person"
    assert ending(was_auto_fixed=False, was_acknowledged=False) == "resolved by itself"
