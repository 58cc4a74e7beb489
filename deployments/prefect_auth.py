"""The local Prefect server's credential: basic auth on its API, kept in the state directory.

`vigil up` creates it once (``vigil:<random>``, mode 0600) and hands it to the server
(``PREFECT_SERVER_API_AUTH_STRING``) and, through the environment they inherit, to every
process it starts (``PREFECT_API_AUTH_STRING``). Other `vigil` commands read it from the
state directory when their environment has none, so they reach the same server.
"""

import os
import secrets
import stat
from pathlib import Path

from models.errors import VigilError

CREDENTIAL_FILE = "prefect-auth"
USER = "vigil"
CLIENT_VARIABLE = "PREFECT_API_AUTH_STRING"
SERVER_VARIABLE = "PREFECT_SERVER_API_AUTH_STRING"


def credential_path(state_dir: Path) -> Path:
    """Where the credential of the server `vigil up` runs from ``state_dir`` is kept."""
    return state_dir / CREDENTIAL_FILE


def ensure_credential(state_dir: Path) -> str:
    """Return the local server's credential, creating it (mode 0600) the first time."""
    path = credential_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two `vigil up` at once cannot both write one
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _checked(path)
    with os.fdopen(fd, "w") as out:
        out.write(f"{USER}:{secrets.token_urlsafe(32)}\n")
    return _checked(path)


def rotate_credential(state_dir: Path) -> Path:
    """Replace the local server's credential with a fresh one; return the file's path.

    Only while Vigil is stopped: the server and every process `vigil up` starts read it at
    their start. The new file is written beside the old one (mode 0600), then renamed over
    it, so a reader never sees half a credential.
    """
    path = credential_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{CREDENTIAL_FILE}.{secrets.token_hex(4)}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"{USER}:{secrets.token_urlsafe(32)}\n")
    fresh.replace(path)
    return path


def read_credential(state_dir: Path) -> str | None:
    """Return the local server's credential, or None when `vigil up` never ran here."""
    path = credential_path(state_dir)
    return _checked(path) if path.exists() else None


def server_environment(state_dir: Path) -> dict[str, str]:
    """The variables that turn basic auth on for the server and give its clients the key."""
    credential = ensure_credential(state_dir)
    return {SERVER_VARIABLE: credential, CLIENT_VARIABLE: credential}


def use_local_server(state_dir: Path, local_api_url: str, *, is_up: bool) -> None:
    """Point this process (and its children) at the local server, with its credential.

    ``PREFECT_API_URL`` is set to the local server when unset and `vigil up` runs here
    (``is_up``); the credential is taken when ``PREFECT_API_AUTH_STRING`` is unset and the
    API is the local server's (it must not travel to another). Call it before Prefect is
    imported: Prefect reads its settings once.
    """
    if is_up:
        os.environ.setdefault("PREFECT_API_URL", local_api_url)
    if CLIENT_VARIABLE in os.environ:
        return
    if os.environ.get("PREFECT_API_URL", "").rstrip("/") != local_api_url:
        return
    credential = read_credential(state_dir)
    if credential is not None:
        os.environ[CLIENT_VARIABLE] = credential


def _checked(path: Path) -> str:
    """Read a credential file that only its owner may read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise VigilError(
            f"{path} is readable by others (mode {mode:04o}); "
            f"run `chmod 600 {path}` (and consider deleting it: `vigil up` makes a new one)"
        )
    credential = path.read_text().strip()
    if not credential:
        raise VigilError(f"{path} is empty; delete it and `vigil up` makes a new one")
    return credential
