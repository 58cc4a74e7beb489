"""The ``dashboard:`` section of vigil.yaml: where the dashboard listens, who may log in."""

from datetime import timedelta
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from models.config.base import Duration, LocatedValueError, StrictModel, first_repeat
from models.vocabulary.passwords import is_password_hash


class Role(StrEnum):
    """What a dashboard user may do; each role includes the ones above it."""

    VIEWER = "viewer"  # reads every page
    OPERATOR = "operator"  # also acknowledges alerts, silences, approves or rejects recoveries
    ADMIN = "admin"  # also sees who has access


ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class DashboardUser(StrictModel):
    """One login: a name, a role and a scrypt hash from `vigil dashboard hash-password`."""

    name: str = Field(min_length=1, max_length=64)
    role: Role = Role.VIEWER
    password_hash: str = Field(description="scrypt hash; never the password itself.")

    @field_validator("password_hash")
    @classmethod
    def _is_a_hash(cls, value: str) -> str:
        if not is_password_hash(value):
            raise ValueError(
                "expected a scrypt hash (scrypt$16384$8$1$…), not a password; "
                "make one with `vigil dashboard hash-password`"
            )
        return value


class DashboardConfig(StrictModel):
    """How the dashboard runs. Without users it is open to anyone, read-only."""

    host: str = Field("127.0.0.1", description="Address to listen on (loopback by default).")
    port: int = Field(8501, ge=1, le=65535)
    refresh: Duration = Field(
        timedelta(seconds=30), description="Auto-refresh interval of the pages; 0s turns it off."
    )
    prefect_api_url: str | None = Field(
        None, description="Prefect API for run history (default: Prefect's own setting)."
    )
    prefect_ui_url: str | None = Field(
        None, description="Prefect UI base for run links (default: Prefect's own setting)."
    )
    stale_after: Duration = Field(
        timedelta(minutes=5), description="Data older than this is flagged as stale."
    )
    users: list[DashboardUser] = Field(default_factory=list)
    session_lifetime: Duration = Field(
        timedelta(hours=12), description="How long a login lasts (it survives page reloads)."
    )
    lockout_after: int = Field(
        20, ge=3, le=1000, description="Wrong passwords in a row that lock an account."
    )
    lockout_duration: Duration = Field(
        timedelta(minutes=15), description="How long a lockout lasts (an admin can lift it)."
    )
    tls_cert: str | None = Field(None, description="PEM certificate file: serve HTTPS.")
    tls_key: str | None = Field(None, description="PEM private key file of tls_cert.")

    @property
    def scheme(self) -> str:
        """http, or https when TLS is configured."""
        return "https" if self.tls_cert else "http"

    @model_validator(mode="after")
    def _tls_pair(self) -> "DashboardConfig":
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key, or neither")
        return self

    @property
    def operators(self) -> frozenset[str]:
        """Names of the users who may answer approvals (role operator or admin)."""
        rank = ROLE_RANK[Role.OPERATOR]
        return frozenset(u.name for u in self.users if ROLE_RANK[u.role] >= rank)

    @field_validator("refresh")
    @classmethod
    def _refresh_is_sane(cls, value: timedelta) -> timedelta:
        if timedelta(0) < value < timedelta(seconds=1):
            raise ValueError("refresh must be 0s (off) or at least 1s")
        return value

    @model_validator(mode="after")
    def _names_are_unique(self) -> "DashboardConfig":

        repeat = first_repeat(user.name for user in self.users)
        if repeat:
            index, name = repeat
            raise LocatedValueError(("users", index, "name"), f"user {name!r} is listed twice")
        return self
