"""Alerts, silences, maintenance windows and metric queries over HTTP, on SQLite and PostgreSQL."""

from datetime import timedelta

from models.config.dashboard import Role
from models.vocabulary.resolution import choose_resolution
from tests.api.conftest import NOW, Api, day_of_samples, firing_alert

OPERATOR, VIEWER = Role.OPERATOR, Role.VIEWER


def test_alerts_are_listed_filtered_and_shown_with_their_timeline(api: Api):
    alert = firing_alert(api.store, target="web-1")
    firing_alert(api.store, target="db-1")
    with api.client(VIEWER) as http:
        listed = http.get("/api/v1/alerts", params={"state": "firing"}).json()
        matched = http.get("/api/v1/alerts", params={"match": '{target="web-1"}'}).json()
        none_resolved = http.get("/api/v1/alerts", params={"state": "resolved"}).json()
        one = http.get(f"/api/v1/alerts/{alert.id}").json()
        by_fingerprint = http.get(f"/api/v1/alerts/{alert.fingerprint}").json()
        missing = http.get("/api/v1/alerts/99999")
    assert sorted(a["labels"]["target"] for a in listed) == ["db-1", "web-1"]
    assert [a["id"] for a in matched] == [alert.id]
    assert none_resolved == []
    assert one == by_fingerprint
    assert (one["rule"], one["state"], one["value"]) == ("HighCpu", "firing", 95.0)
    assert missing.status_code == 404
    assert missing.json() == {"reason": "there is no alert 99999", "field": "ref"}


def test_an_ack_with_expiry_an_unack_and_a_dismissal_enter_the_timeline_as_the_token(api: Api):
    alert = firing_alert(api.store)
    with api.client(OPERATOR) as http:
        acked = http.post(
            f"/api/v1/alerts/{alert.id}/ack", json={"comment": "on it", "expires": "2h"}
        )
        unacked = http.post(f"/api/v1/alerts/{alert.id}/unack")
        dismissed = http.post(
            f"/api/v1/alerts/{alert.id}/dismiss", json={"comment": "load test", "for": "1d"}
        )
        events = http.get(f"/api/v1/alerts/{alert.id}/timeline").json()["events"]
    assert acked.status_code == 200, acked.text
    assert acked.json()["ack_by"] == "olga/olga-bot"
    assert acked.json()["ack_expires_at"] is not None
    assert unacked.json()["ack_by"] is None
    assert dismissed.status_code == 200, dismissed.text
    people = [(e["kind"], e["actor"]) for e in events if e["actor"] != "vigil"]
    assert people == [
        ("acknowledged", "olga/olga-bot"),
        ("unacknowledged", "olga/olga-bot"),
        ("dismissed", "olga/olga-bot"),
    ]


def test_bad_operator_input_is_refused_with_the_shared_validators_words(api: Api):
    alert = firing_alert(api.store)
    with api.client(OPERATOR) as http:
        no_comment = http.post(f"/api/v1/alerts/{alert.id}/ack", json={"comment": " "})
        bad_expiry = http.post(
            f"/api/v1/alerts/{alert.id}/ack", json={"comment": "x", "expires": "soon"}
        )
        no_matcher = http.post("/api/v1/silences", json={"matchers": "cpu", "for": "1h"})
        broken = http.post("/api/v1/silences", json={"matchers": '{target="db', "for": "1h"})
    assert no_comment.status_code == 422
    assert no_comment.json() == {
        "reason": "write a comment: what is being done about it",
        "field": "comment",
    }
    assert bad_expiry.json()["field"] == "expires"
    assert "is not a duration" in bad_expiry.json()["reason"]
    assert no_matcher.json()["field"] == "matchers"
    assert "at least one label matcher" in no_matcher.json()["reason"]
    assert broken.status_code == 422 and broken.json()["field"] == "matchers"


def test_a_silence_is_added_listed_and_expired_by_the_token(api: Api):
    with api.client(OPERATOR) as http:
        added = http.post(
            "/api/v1/silences",
            json={"matchers": '{target="db-1"}', "for": "2h", "comment": "deploy"},
        )
        silence_id = added.json()["id"]
        listed = http.get("/api/v1/silences").json()
        expired = http.delete(f"/api/v1/silences/{silence_id}")
        after = http.get("/api/v1/silences").json()
        ended = http.get("/api/v1/silences", params={"include_expired": True}).json()
        again = http.delete(f"/api/v1/silences/{silence_id}")
    assert added.status_code == 201, added.text
    assert [(s["id"], s["created_by"], s["comment"]) for s in listed] == [
        (silence_id, "olga/olga-bot", "deploy")
    ]
    assert expired.status_code == 200 and expired.json()["expired_by"] == "olga/olga-bot"
    assert after == []
    assert [(s["id"], s["expired_by"]) for s in ended] == [(silence_id, "olga/olga-bot")]
    assert again.status_code == 404 and again.json()["field"] == "silence_id"


def test_maintenance_windows_are_listed_with_their_next_span(api: Api):
    with api.client(VIEWER) as http:
        windows = http.get("/api/v1/maintenance-windows").json()
    assert [(w["name"], w["match"], w["duration_s"]) for w in windows] == [
        ("nightly", '{target="db"}', 3600.0)
    ]
    assert windows[0]["starts_at"] is not None


def test_series_labels_and_a_one_day_range_query_come_from_the_store(api: Api):
    stored = day_of_samples(api.store)
    start, end = (NOW - timedelta(days=1)).isoformat(), NOW.isoformat()
    with api.client(VIEWER) as http:
        series = http.get("/api/v1/metrics/series", params={"match": 'cpu{host="a"}'}).json()
        labels = http.get("/api/v1/metrics/labels/cpu").json()
        raw = http.get(
            "/api/v1/metrics/query_range",
            params={"match": "cpu", "start": start, "end": end, "resolution": "raw"},
        ).json()
        auto = http.get(
            "/api/v1/metrics/query_range", params={"match": "cpu", "start": start, "end": end}
        ).json()
        naive = http.get(
            "/api/v1/metrics/query_range", params={"match": "cpu", "start": "2026-01-01T00:00:00"}
        )
        bad = http.get("/api/v1/metrics/series", params={"match": "cpu{host="})
    direct = api.store.query_range("cpu", NOW - timedelta(days=1), NOW)
    assert [(s["name"], s["labels"]) for s in series] == [("cpu", {"host": "a"})]
    assert labels == {"host": ["a"]}
    assert raw["resolution"] == "raw"
    points = raw["series"][0]["points"]
    assert len(points) == len(direct) == stored
    assert [p[1] for p in points] == direct["value"].tolist()
    picked = choose_resolution(
        NOW - timedelta(days=1),
        NOW,
        now=NOW,
        raw_keep=api.store.raw_keep,
        minute_keep=api.store.minute_keep,
    )
    assert auto["resolution"] == str(picked)  # as the store's query_range picks
    assert naive.status_code == 422 and naive.json()["field"] == "start"
    assert bad.status_code == 422 and bad.json()["field"] == "match"
