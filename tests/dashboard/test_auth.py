from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from app.auth import Action, User
from models.config.dashboard import Role
from tests.dashboard.helpers import MAIN, PASSWORD, open_page


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    return url


def log_in(name: str, password: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_users_must_log_in_before_they_see_anything(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert not at.metric


def test_a_wrong_password_is_refused(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    at = log_in("operator-user", "guess")
    assert at.error[0].value == "Wrong user name or password."
    assert "vigil_user" not in at.session_state


def test_a_right_password_logs_in_with_the_configured_role(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    at = log_in("operator-user", PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Signed in as **operator-user** (operator)" in [c.value for c in at.sidebar.caption]
    at.sidebar.button[0].click().run()
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_without_users_everyone_is_an_anonymous_viewer(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VIGIL_CONFIG_PATH", str(tmp_path / "missing.yaml"))
    at = open_page("views/overview.py", user=None)
    assert not at.exception
    assert "Signed in as **anonymous** (viewer)" in [c.value for c in at.sidebar.caption]


def test_a_user_removed_from_the_config_is_logged_out(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    at = open_page("views/overview.py", user="someone-removed")
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_an_invalid_config_is_shown_with_its_line(sqlite_url, tmp_path, monkeypatch):
    config = tmp_path / "vigil.yaml"
    config.write_text("dashboard:\n  users:\n    - name: ann\n      password_hash: hunter2\n")
    monkeypatch.setenv("VIGIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VIGIL_CONFIG_PATH", str(config))
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    assert not at.exception
    assert f"{config}:4: dashboard.users[0].password_hash: expected a scrypt hash" in (
        at.error[0].value
    )


def test_only_admins_see_the_access_page(sqlite_url, dashboard_env):
    dashboard_env(sqlite_url)
    viewer = open_page("views/overview.py", user="viewer-user")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        viewer.switch_page("views/access.py").run()
    admin = open_page("views/access.py", user="admin-user")
    assert not admin.exception
    users = admin.dataframe[0].value
    assert list(users["user"]) == ["viewer-user", "operator-user", "admin-user"]
    assert "password_hash" not in users.columns


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, set()),
        (Role.OPERATOR, {Action.ACKNOWLEDGE, Action.SILENCE, Action.DECIDE_RECOVERY}),
        (Role.ADMIN, set(Action)),
    ],
)
def test_roles_allow_their_actions_and_no_others(role, allowed):
    assert {a for a in Action if User("u", role).can(a)} == allowed


def test_viewers_cannot_change_anything_even_around_the_pages(sqlite_url):
    from datetime import UTC, datetime, timedelta

    from app import actions
    from models.db import make_engine

    viewer, now = User("vic", Role.VIEWER), datetime.now(UTC)
    engine = make_engine(sqlite_url)
    attempts = [
        lambda: actions.acknowledge_alert(engine, viewer, 1, "mine", now=now),
        lambda: actions.create_silence(engine, viewer, '{a="b"}', timedelta(hours=1), "", now=now),
        lambda: actions.expire_silence(engine, viewer, 1, now=now),
        lambda: actions.decide_recovery(
            engine, "http://127.0.0.1:9/api", viewer, "00000000-0000-0000-0000-000000000000",
            approved=True, reason="why not",
        ),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises(actions.NotAllowed, match="vic \\(viewer\\) may not"):
            attempt()
    refused = [r for r in _recovery_audit(engine) if r.event == "approval_refused"]
    assert [(r.actor, r.path) for r in refused] == [("vic", "dashboard")]


def _recovery_audit(engine):  # type: ignore[no-untyped-def]
    from sqlmodel import Session, select

    from models.recovery import RecoveryAudit

    with Session(engine) as session:
        return list(session.exec(select(RecoveryAudit)))


def test_every_login_failure_and_logout_is_in_the_audit(sqlite_url, dashboard_env):
    import time_machine

    from models.access import LoginAudit
    from models.db import make_engine

    dashboard_env(sqlite_url)
    with time_machine.travel(datetime.now(UTC), tick=False):  # both tries at one instant
        assert log_in("operator-user", "guess").error[0].value == "Wrong user name or password."
        at = log_in("operator-user", "guess again")  # too soon after a failure: not checked
    assert at.error[0].value == "Too many wrong passwords; wait 1s and try again."
    at = log_in("admin-user", PASSWORD)
    assert at.title[0].value == "Overview"
    at.sidebar.button[0].click().run()  # log out
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        rows = conn.execute(LoginAudit.__table__.select().order_by("id")).all()  # type: ignore[attr-defined]
    assert [(r.user, r.event) for r in rows] == [
        ("operator-user", "failed"),
        ("operator-user", "throttled"),
        ("admin-user", "login"),
        ("admin-user", "logout"),
    ]
    assert rows[2].session_id == rows[3].session_id  # the logout ended that session
    admin = open_page("views/access.py", user="admin-user")
    shown = admin.dataframe[2].value
    assert list(shown["event"])[:2] == ["logout", "login"]
    engine.dispose()
