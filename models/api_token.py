"""API tokens: who calls Vigil's HTTP API, for which dashboard user, with which role.

Only a SHA-256 digest of each token is stored. A token is 32 random bytes (256 bits), so a
fast digest is as safe as a slow password hash here (nothing to guess from a dictionary),
and it lets every request find its token by an indexed equality lookup.
"""

from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlmodel import Field, SQLModel


class ApiToken(SQLModel, table=True):
    """One bearer token; the clear token is shown once when it is made, never stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_name: str = Field(
        sa_column=Column(String(64), nullable=False),
        description="The dashboard user (vigil.yaml dashboard.users) it acts for.",
    )
    role: str = Field(
        sa_column=Column(String(16), nullable=False),
        description="viewer, operator or admin; never more than the user's own role.",
    )
    token_sha256: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
