import pytest
from typer.testing import CliRunner

from deployments.dashboard import streamlit_command
from deployments.services import dashboard_service
from models.config import parse_config
from models.config.dashboard import Role
from models.errors import ConfigError
from models.vocabulary.passwords import hash_password, verify_password
from vigil.cli import app

runner = CliRunner()
HASH = hash_password("pw", salt=bytes(16))


def test_the_dashboard_section_has_safe_defaults():
    section = parse_config("").dashboard
    assert (section.host, section.port, section.refresh.total_seconds()) == ("127.0.0.1", 8501, 30)
    assert section.users == []


def test_users_carry_a_role_and_a_hash():
    text = f"dashboard:\n  users:\n    - {{name: ann, role: operator, password_hash: '{HASH}'}}\n"
    (user,) = parse_config(text).dashboard.users
    assert user.role is Role.OPERATOR
    assert verify_password("pw", user.password_hash)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "dashboard:\n  port: 80000\n",
            "vigil.yaml:2: dashboard.port: Input should be less than or equal to 65535",
        ),
        (
            "dashboard:\n  refresh: 200ms\n",
            "vigil.yaml:2: dashboard.refresh: refresh must be 0s (off) or at least 1s",
        ),
        (
            "dashboard:\n  users:\n    - name: ann\n      role: boss\n      password_hash: x\n",
            "vigil.yaml:4: dashboard.users[0].role: Input should be 'viewer', 'operator' or",
        ),
        (
            "dashboard:\n  users:\n    - name: ann\n      password_hash: hunter2\n",
            "vigil.yaml:4: dashboard.users[0].password_hash: expected a scrypt hash",
        ),
        (
            f"dashboard:\n  users:\n    - {{name: a, password_hash: '{HASH}'}}\n"
            f"    - {{name: a, password_hash: '{HASH}'}}\n",
            "vigil.yaml:4: dashboard.users[1].name: user 'a' is listed twice",
        ),
    ],
)
def test_dashboard_config_errors_name_the_line_and_field(yaml_text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml_text)
    assert expected in str(caught.value)


def test_hash_password_prints_a_hash_that_verifies():
    result = runner.invoke(app, ["dashboard", "hash-password"], input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    hashed = result.output.strip().splitlines()[-1]
    assert hashed.startswith("scrypt$")
    assert "s3cret" not in hashed
    assert verify_password("s3cret", hashed)
    assert not verify_password("other", hashed)


def test_hash_password_refuses_mismatched_entries():
    result = runner.invoke(app, ["dashboard", "hash-password"], input="a\nb\n")
    assert result.exit_code != 0
    assert "do not match" in result.output


def test_vigil_dashboard_refuses_an_invalid_config(tmp_path):
    config = tmp_path / "vigil.yaml"
    config.write_text("dashboard:\n  prot: 1\n")
    result = runner.invoke(app, ["dashboard", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:2: dashboard.prot: unknown field" in result.output


def test_the_streamlit_command_is_headless_on_the_given_address():
    command = streamlit_command("127.0.0.1", 9000)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4].endswith("app/asgi.py")  # the pages and the HttpOnly cookie route
    assert {"--server.address=127.0.0.1", "--server.port=9000", "--server.headless=true"} <= set(
        command
    )


def test_vigil_up_can_run_the_dashboard_against_its_own_prefect_server(tmp_path):
    from models.settings import Settings

    settings = Settings(config_path=tmp_path / "vigil.yaml", database_url="sqlite:///x.db")
    section = parse_config("dashboard: {port: 9001}").dashboard
    service = dashboard_service(settings, section)
    assert service.health_url == "http://127.0.0.1:9001/_stcore/health"
    assert service.env["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    # The store's URL (maybe with a password) is inherited from `vigil up`, not recorded
    # with the service in up.json.
    assert set(service.env) == {"PREFECT_API_URL"}
