"""The top level of vigil.yaml."""

from typing import Any, Literal

from pydantic import Field, model_validator

from models.config.analytics import AnalyticsConfig
from models.config.base import Labels, StrictModel
from models.config.collectors import Collectors
from models.config.targets import Target


class VigilConfig(StrictModel):
    """Everything Vigil watches and how it reacts.

    ``checks``, ``rules``, ``channels`` and ``procedures`` are lists of mappings until
    their capabilities land; each then replaces ``dict[str, Any]`` with its own schema.
    """

    version: Literal[1] = 1
    labels: Labels = Field(default_factory=dict, description="Labels added to every series.")
    targets: list[Target] = Field(default_factory=list)
    collectors: Collectors = Field(default_factory=Collectors)
    checks: list[dict[str, Any]] = Field(default_factory=list)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    channels: list[dict[str, Any]] = Field(default_factory=list)
    procedures: list[dict[str, Any]] = Field(default_factory=list)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)

    @model_validator(mode="after")
    def _targets_are_unique_and_known(self) -> "VigilConfig":
        names = [t.name for t in self.targets]
        for index, target in enumerate(self.targets):
            if target.name in names[:index]:
                raise LocatedValueError(
                    ("targets", index, "name"), f"target {target.name!r} is defined twice"
                )
            for needed in target.depends_on:
                if needed not in names:
                    raise LocatedValueError(
                        ("targets", index, "depends_on"),
                        f"depends on unknown target {needed!r}; known: {', '.join(names)}",
                    )
        return self


class LocatedValueError(ValueError):
    """A cross-field problem that knows which field it is about."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
