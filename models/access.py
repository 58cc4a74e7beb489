"""Access tables: one-time approval codes, the login audit, and the configuration audit."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from models.vocabulary.access import ApprovalPath, LoginEvent

__all__ = ["ApprovalCode", "ApprovalPath", "ConfigLoad", "LoginAudit", "LoginEvent"]


def _now() -> datetime:
    return datetime.now(UTC)


class ApprovalCode(SQLModel, table=True):
    """A one-time code that proves who answers one paused recovery run (stored hashed)."""

    __tablename__ = "approval_code"

    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=64, index=True)
    flow_run_id: str = Field(max_length=64)
    path: str = Field(max_length=32, description="ApprovalPath the code is meant for.")
    code_hash: str = Field(max_length=64, description="sha256 hex of the code; never the code.")
    issued_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class LoginAudit(SQLModel, table=True):
    """One event at the dashboard's door."""

    __tablename__ = "login_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True), index=True)
    user: str = Field(max_length=64, index=True, description="The name given (maybe unknown).")
    event: str = Field(max_length=32, description="A LoginEvent.")
    session_id: str | None = Field(default=None, max_length=64, index=True)
    client: str = Field(default="", max_length=255, description="Client address, if known.")
    detail: str = ""


class ConfigLoad(SQLModel, table=True):
    """One load of vigil.yaml by a process: its hash and what changed since the last load."""

    __tablename__ = "config_load"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True), index=True)
    path: str = Field(max_length=1000)
    sha256: str = Field(max_length=64)
    process: str = Field(max_length=64, description="Which Vigil process loaded it.")
    started_by: str = Field(max_length=255, description="OS user and host of that process.")
    diff: str = Field(default="", description="Rules, procedures, channels added/removed/changed.")
    fingerprint: str = Field(
        default="{}", description="JSON: section -> item name -> short hash (never the item)."
    )
