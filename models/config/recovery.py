"""Recovery procedures in vigil.yaml: ordered steps, approvals, verification, safety limits.

Text fields of steps may hold placeholders: ``{target}``, ``{procedure}``, ``{address}`` (the
target's configured address) and ``{labels.NAME}`` (alert labels).
They are filled in one argument, URL part or path part at a time, never split or passed
to a shell (see ``tasks/core/recovery/template.py``); where the configured command is a shell,
alert values must be pinned (``models/config/recovery_placeholders.py``).
"""

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from models.config.base import Breaker, Duration, LabelName, LocatedValueError, StrictModel
from models.config.recovery_placeholders import placeholder_problem

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ApprovalMode(StrEnum):
    """Whether a person must approve before Vigil acts."""

    NONE = "none"  # act at once
    REQUIRED = "required"  # pause the run until someone approves or rejects it


class TimeoutDecision(StrEnum):
    """What an approval that nobody answered in time means."""

    REJECT = "reject"  # the safe default: nothing is changed
    APPROVE = "approve"  # act anyway (for procedures that are safe to run unattended)


class Probe(StrictModel):
    """A small health probe: exactly one of ``http``, ``tcp`` or ``command``."""

    http: str | None = Field(None, description="URL that must answer with expect_status.")
    tcp: str | None = Field(None, description="host:port that must accept a connection.")
    command: list[str] | None = Field(None, min_length=1, description="argv that must exit 0.")
    expect_status: list[int] = Field(default_factory=lambda: [200])
    timeout: Duration = timedelta(seconds=5)

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> "Probe":
        kinds = [k for k in ("http", "tcp", "command") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a probe needs exactly one of http, tcp, command (got {kinds})")
        return self


class Precondition(Probe):
    """A probe that must give the expected answer before Vigil acts."""

    expect: Literal["passing", "failing"] = Field(
        "failing", description="failing: act only while the target is still unhealthy."
    )


class Verification(Probe):
    """The probe that decides success: it must pass within ``within``."""

    within: Duration = timedelta(seconds=30)
    interval: Duration = timedelta(milliseconds=500)


class _StepBase(StrictModel):
    name: str | None = Field(None, pattern=NAME_PATTERN, description="Shown in logs and audit.")
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(0, ge=0, le=10, description="Further attempts after a failure.")
    retry_delay: Duration = timedelta(seconds=1)
    retry_backoff: float = Field(2.0, ge=1.0, le=10.0, description="Delay factor per attempt.")
    approval: ApprovalMode = ApprovalMode.NONE
    rollback: "LeafStep | None" = Field(None, description="What undoes this step.")


class CommandStep(_StepBase):
    """Run a program (no shell) with its own environment and working directory."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None


class ProcessStep(_StepBase):
    """Stop, start or restart a process known by its pidfile."""

    type: Literal["process"]
    action: Literal["restart", "stop", "start"] = "restart"
    pidfile: str
    start: list[str] | None = Field(None, min_length=1, description="argv that starts it.")
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    grace: Duration = Field(timedelta(seconds=5), description="SIGTERM, then SIGKILL after.")
    up: Probe | None = Field(None, description="How to tell it is up again.")
    up_within: Duration = timedelta(seconds=15)

    @model_validator(mode="after")
    def _start_needs_argv(self) -> "ProcessStep":
        if self.action != "stop" and self.start is None:
            raise ValueError(f"a process step with action {self.action} needs start (an argv)")
        return self


class SystemdStep(_StepBase):
    """Restart a systemd unit; skipped cleanly where systemd is not running."""

    type: Literal["systemd"]
    unit: str = Field(pattern=r"^[A-Za-z0-9@_.:{}-]+$")


class HttpStep(_StepBase):
    """Send one HTTP request and require an expected status."""

    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(None, alias="json")
    expect_status: list[int] = Field(default_factory=lambda: [200, 201, 202, 204])
    breaker: Breaker = Field(
        default_factory=Breaker, description="Fail at once while the endpoint keeps failing."
    )


class ClearStep(_StepBase):
    """Clear files or a cache directory's contents (kept aside until the run commits)."""

    type: Literal["clear"]
    paths: list[str] = Field(min_length=1)


class ScaleStep(_StepBase):
    """Scale a service to ``replicas`` with a command or an HTTP hook (``{replicas}`` fills in)."""

    type: Literal["scale"]
    replicas: int = Field(ge=0)
    argv: list[str] | None = Field(None, min_length=1)
    url: str | None = None
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    breaker: Breaker = Field(
        default_factory=Breaker, description="With url: fail at once while the hook keeps failing."
    )

    @model_validator(mode="after")
    def _one_hook(self) -> "ScaleStep":
        if (self.argv is None) == (self.url is None):
            raise ValueError("a scale step needs exactly one of argv or url")
        return self


class PythonStep(_StepBase):
    """Call ``module:function(**kwargs)``; string kwargs are templated."""

    type: Literal["python"]
    entrypoint: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    kwargs: dict[str, Any] = Field(default_factory=dict)


class WaitStep(_StepBase):
    """Wait a fixed time (e.g. for caches to warm)."""

    type: Literal["wait"]
    duration: Duration


class ProbeStep(_StepBase):
    """Run a health probe until it passes, at most ``within``."""

    type: Literal["probe"]
    probe: Probe
    within: Duration = timedelta(seconds=30)


_LeafStepTypes = (
    CommandStep
    | ProcessStep
    | SystemdStep
    | HttpStep
    | ClearStep
    | ScaleStep
    | PythonStep
    | WaitStep
    | ProbeStep
)
LeafStep = Annotated[_LeafStepTypes, Field(discriminator="type")]


class ParallelGroup(StrictModel):
    """Steps that run at the same time; the group fails if any of them fails."""

    type: Literal["parallel"]
    name: str | None = Field(None, pattern=NAME_PATTERN)
    steps: list[LeafStep] = Field(min_length=1)


StepItem = Annotated[_LeafStepTypes | ParallelGroup, Field(discriminator="type")]


class Limits(StrictModel):
    """Safety limits per procedure and target."""

    max_runs: int = Field(3, ge=1, description="At most this many runs per window.")
    window: Duration = timedelta(hours=1)
    cooldown: Duration = Field(timedelta(minutes=5), description="Quiet time after a run.")
    disable_after_failures: int = Field(
        3, ge=1, description="Consecutive failures that disable it until re-enabled."
    )
    queue_timeout: Duration = Field(
        timedelta(minutes=30),
        description="How long a run waits behind another recovery on its target, then gives up.",
    )


class Procedure(StrictModel):
    """A named recovery: preconditions, approval, steps, verification, limits."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    triggers: list[str] = Field(default_factory=list, description="Alert rules that start it.")
    targets: list[str] = Field(default_factory=list, description="Allowed targets; empty: any.")
    allowed_labels: dict[LabelName, list[str]] = Field(
        default_factory=dict,
        description="Values an alert label may have here; a run with another value is refused. "
        "Needed to use {labels.NAME} in a program name or a shell script.",
    )
    approval: ApprovalMode = ApprovalMode.NONE
    dry_run: bool = Field(
        False, description="Every run only records what it would do; set false to let it act."
    )
    dangerous: bool = Field(
        False, description="Each approval needs two different operators, not one."
    )
    approval_timeout: Duration = timedelta(minutes=15)
    on_approval_timeout: TimeoutDecision = TimeoutDecision.REJECT
    preconditions: list[Precondition] = Field(default_factory=list)
    steps: list[StepItem] = Field(min_length=1)
    verify: Verification | None = None
    limits: Limits = Field(default_factory=Limits)

    @model_validator(mode="after")
    def _placeholders_are_known_and_safe(self) -> "Procedure":
        problem = placeholder_problem(self)
        if problem:
            raise LocatedValueError(*problem)
        return self

    @field_validator("allowed_labels")
    @classmethod
    def _each_label_has_values(cls, allowed: dict[str, list[str]]) -> dict[str, list[str]]:
        for label, values in allowed.items():
            if not values:
                raise ValueError(f"allowed_labels.{label} lists no value; list at least one")
        return allowed


def recovery_problem(config) -> tuple[tuple[str | int, ...], str] | None:  # type: ignore[no-untyped-def]
    """Return (field path, message) of the first rule or procedure naming something unknown."""
    procedures = {p.name for p in config.procedures}
    for index, rule in enumerate(config.rules):
        if rule.procedure is not None and rule.procedure not in procedures:
            known = ", ".join(sorted(procedures)) or "none"
            return (
                ("rules", index, "procedure"),
                f"unknown procedure {rule.procedure!r}; known: {known}",
            )
    targets = {t.name for t in config.targets}
    for index, procedure in enumerate(config.procedures):
        for target in procedure.targets:
            if target not in targets:
                known = ", ".join(sorted(targets)) or "none (add a targets: section)"
                return (
                    ("procedures", index, "targets"),
                    f"unknown target {target!r}; known: {known}",
                )
    return None


def find_procedure(procedures: list[Procedure], name: str) -> Procedure:
    """Return the procedure called ``name``; raise KeyError naming the known ones."""
    for procedure in procedures:
        if procedure.name == name:
            return procedure
    known = ", ".join(p.name for p in procedures) or "none"
    raise KeyError(f"no procedure {name!r} in the config; known: {known}")


# The steps refer to LeafStep (for rollback) before it exists; resolve that now.
for _model in _StepBase.__subclasses__():
    _model.model_rebuild()
ParallelGroup.model_rebuild()
Procedure.model_rebuild()
