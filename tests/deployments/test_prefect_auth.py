"""The local Prefect server's credential: made once, private, and only handed to our server."""

import os
import stat

import pytest

from deployments.prefect_auth import (
    CLIENT_VARIABLE,
    credential_path,
    ensure_credential,
    read_credential,
    server_environment,
    use_local_server,
)
from models.errors import VigilError

LOCAL_API = "http://127.0.0.1:4200/api"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Prefect URL nor credential in the environment; restored after the test."""
    for name in ("PREFECT_API_URL", CLIENT_VARIABLE):
        monkeypatch.setenv(name, "recorded-for-restore")
        monkeypatch.delenv(name)
    return monkeypatch


def test_the_credential_is_made_once_readable_by_its_owner_only(tmp_path):
    state = tmp_path / ".vigil"
    first = ensure_credential(state)
    assert first.startswith("vigil:") and len(first) > 40
    assert stat.S_IMODE(credential_path(state).stat().st_mode) == 0o600
    assert ensure_credential(state) == first  # a restart reuses it
    assert read_credential(state) == first
    assert server_environment(state) == {
        "PREFECT_SERVER_API_AUTH_STRING": first,
        "PREFECT_API_AUTH_STRING": first,
    }


def test_a_credential_file_others_can_read_is_refused_with_the_fix(tmp_path):
    ensure_credential(tmp_path)
    credential_path(tmp_path).chmod(0o644)
    with pytest.raises(VigilError, match="readable by others \\(mode 0644\\); run `chmod 600"):
        read_credential(tmp_path)


def test_no_credential_before_vigil_up_ran(tmp_path):
    assert read_credential(tmp_path) is None


def test_a_command_takes_the_local_credential_and_url_while_vigil_up_runs(tmp_path, clean_env):
    credential = ensure_credential(tmp_path)
    use_local_server(tmp_path, LOCAL_API, is_up=True)
    assert os.environ["PREFECT_API_URL"] == LOCAL_API
    assert os.environ[CLIENT_VARIABLE] == credential


def test_a_credential_in_the_environment_wins(tmp_path, clean_env):
    ensure_credential(tmp_path)
    clean_env.setenv(CLIENT_VARIABLE, "ops:their-own")
    use_local_server(tmp_path, LOCAL_API, is_up=True)
    assert os.environ[CLIENT_VARIABLE] == "ops:their-own"


def test_the_local_credential_never_travels_to_another_server(tmp_path, clean_env):
    ensure_credential(tmp_path)
    clean_env.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    use_local_server(tmp_path, LOCAL_API, is_up=True)
    assert os.environ["PREFECT_API_URL"] == "http://prefect.example:4200/api"
    assert CLIENT_VARIABLE not in os.environ


def test_nothing_is_pointed_anywhere_when_vigil_up_does_not_run(tmp_path, clean_env):
    ensure_credential(tmp_path)
    use_local_server(tmp_path, LOCAL_API, is_up=False)
    assert "PREFECT_API_URL" not in os.environ and CLIENT_VARIABLE not in os.environ
