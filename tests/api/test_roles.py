"""Tokens and roles: 401 without a valid token, 403 with a reason below the needed role."""

from datetime import UTC, datetime

import pytest

from models.config.dashboard import DashboardUser, Role
from tasks.api.token_store import create_token, identify, list_tokens, revoke_token
from tests.api.conftest import Api, firing_alert


def test_a_request_without_a_token_or_with_an_unknown_one_gets_401(sqlite_api: Api):
    with sqlite_api.client(None) as http:
        missing = http.get("/api/v1/alerts")
        unknown = http.get("/api/v1/alerts", headers={"Authorization": "Bearer vigil_nope"})
    assert missing.status_code == 401 and unknown.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json() == {
        "reason": "send a bearer token: Authorization: Bearer <token>",
        "field": "Authorization",
    }
    assert "unknown or revoked token" in unknown.json()["reason"]


def test_a_token_as_the_basic_auth_password_is_taken_and_a_bad_basic_header_is_not(
    sqlite_api: Api,
):
    with sqlite_api.client(None) as http:
        as_password = http.get("/api/v1/alerts", auth=("anyone", sqlite_api.tokens[Role.VIEWER]))
        wrong = http.get("/api/v1/alerts", auth=("anyone", "vigil_nope"))
        garbled = http.get("/api/v1/alerts", headers={"Authorization": "Basic %%%"})
    assert as_password.status_code == 200
    assert wrong.status_code == 401 and "unknown or revoked token" in wrong.json()["reason"]
    assert garbled.status_code == 401 and garbled.json()["reason"].startswith("send a bearer")


def test_a_viewer_cannot_ack_approve_or_silence_and_is_told_why(sqlite_api: Api):
    alert = firing_alert(sqlite_api.store)
    reason = "token vic-bot (vic) is a viewer; this needs operator or above"
    with sqlite_api.client(Role.VIEWER) as http:
        tries = [
            http.post(f"/api/v1/alerts/{alert.id}/ack", json={"comment": "mine"}),
            http.post(f"/api/v1/alerts/{alert.id}/unack"),
            http.post(f"/api/v1/alerts/{alert.id}/dismiss", json={"for": "1d"}),
            http.post("/api/v1/silences", json={"matchers": '{target="a"}', "for": "1h"}),
            http.delete("/api/v1/silences/1"),
            http.post("/api/v1/recoveries/1/approve", json={"reason": "ok"}),
            http.post("/api/v1/recoveries/1/reject", json={"reason": "no"}),
            http.post("/api/v1/recoveries", json={"procedure": "restart-web", "target": "web"}),
            http.post("/api/v1/rules/HighCpu/backtest", json={}),
        ]
        can_read = http.get(f"/api/v1/alerts/{alert.id}/timeline")
    assert [(t.status_code, t.json()) for t in tries] == [
        (403, {"reason": reason, "field": "Authorization"})
    ] * len(tries)
    assert can_read.status_code == 200
    assert [e["kind"] for e in can_read.json()["events"]] == []  # nothing was written


def test_a_revoked_token_and_a_user_gone_from_the_config_lose_access(sqlite_api: Api):
    engine = sqlite_api.store.engine
    users = sqlite_api.config.dashboard.users
    olga = sqlite_api.tokens[Role.OPERATOR]
    assert identify(engine, users, olga) is not None
    assert identify(engine, [u for u in users if u.name != "olga"], olga) is None
    assert revoke_token(engine, "vic-bot", now=datetime.now(UTC))
    with sqlite_api.client(Role.VIEWER) as http:
        assert http.get("/api/v1/alerts").status_code == 401
    assert [t.name for t in list_tokens(engine) if t.revoked_at] == ["vic-bot"]
    assert not revoke_token(engine, "vic-bot", now=datetime.now(UTC))


def test_a_token_never_holds_more_than_its_users_role(password_hash: str):
    users = [DashboardUser(name="olga", role=Role.OPERATOR, password_hash=password_hash)]
    with pytest.raises(ValueError, match=r"olga is an operator in dashboard\.users"):
        create_token(
            None,
            users,
            name="x",
            user="olga",
            role=Role.ADMIN,
            by="t",  # type: ignore[arg-type]
            now=datetime.now(UTC),
        )
    with pytest.raises(ValueError, match=r"no user 'zed' in dashboard\.users"):
        create_token(
            None,
            users,
            name="x",
            user="zed",
            role=Role.VIEWER,
            by="t",  # type: ignore[arg-type]
            now=datetime.now(UTC),
        )


def test_a_token_name_is_unique_and_only_its_digest_is_stored(sqlite_api: Api):
    engine = sqlite_api.store.engine
    users = sqlite_api.config.dashboard.users
    with pytest.raises(ValueError, match="a token named 'ann-bot' exists"):
        create_token(
            engine,
            users,
            name="ann-bot",
            user="ann",
            role=Role.ADMIN,
            by="t",
            now=datetime.now(UTC),
        )
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_sha256 FROM api_token").scalars().all()
    assert all(token not in stored for token in sqlite_api.tokens.values())
    assert all(len(digest) == 64 for digest in stored)
