"""Targets: the hosts and services Vigil watches."""

from enum import StrEnum

from pydantic import Field

from models.config.base import Labels, StrictModel


class TargetKind(StrEnum):
    """What a target is."""

    HOST = "host"  # a machine; host metrics describe it
    SERVICE = "service"  # something running on a host, reached at an address


class Target(StrictModel):
    """A host or service; its name is the ``target`` label of everything about it."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", description="Unique target name.")
    kind: TargetKind = TargetKind.HOST
    address: str | None = Field(None, description="Host name, IP or URL where it is reached.")
    labels: Labels = Field(default_factory=dict, description="Labels added to its series.")
    depends_on: list[str] = Field(default_factory=list, description="Targets it needs.")
