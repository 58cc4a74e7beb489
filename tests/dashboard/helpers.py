"""Helpers of the dashboard tests: a vigil.yaml with users, AppTest runs, seeded metrics."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from models.store import MetricStore, NewSample

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
PASSWORD = "correct horse"


def write_config(
    path: Path, password_hash: str, extra: str = "", top: str = "", refresh: str = "0s"
) -> Path:
    """Write a vigil.yaml with one user per role (all sharing PASSWORD).

    ``extra`` adds lines to the ``dashboard:`` section, ``top`` other sections before it.
    """
    users = "".join(
        f"    - {{name: {role}-user, role: {role}, password_hash: '{password_hash}'}}\n"
        for role in ("viewer", "operator", "admin")
    )
    text = f"{top}dashboard:\n  refresh: {refresh}\n{extra}  users:\n{users}"
    path.write_text(text, encoding="utf-8")
    return path


def open_page(page: str, *, user: str | None = "viewer-user") -> AppTest:
    """Run the dashboard as ``user`` (None: not logged in) and switch to ``page``."""
    at = AppTest.from_file(MAIN, default_timeout=60)
    if user:
        at.session_state["vigil_user"] = user
    at.run()
    if page != "views/overview.py":
        at.switch_page(page)
        at.run()
    return at


def seed_metrics(store: MetricStore, *, now: datetime | None = None) -> None:
    """Two hosts' CPU every minute for two days up to ``now``, and one disk series."""
    now = now or datetime.now(UTC)
    samples = []
    for minute in range(2 * 24 * 60):
        ts = now - timedelta(minutes=minute)
        for host in ("web-1", "db-1"):
            value = (minute % 60) / 60 + (0.5 if host == "db-1" else 0)
            samples.append(NewSample("cpu_busy_ratio", {"host": host}, ts, value))
    samples.append(NewSample("disk_used_bytes", {"host": "db-1", "mount": "/"}, now, 4e9))
    result = store.write(samples)
    assert not result.rejected
