"""Recovery tables: runs, per procedure+target guards (safety state) and the audit log."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.vocabulary.run_states import RunState


def _now() -> datetime:
    return datetime.now(UTC)


class RecoveryRun(SQLModel, table=True):
    """One admitted attempt to run a procedure on a target."""

    __tablename__ = "recovery_run"

    id: int | None = Field(default=None, primary_key=True)
    procedure: str = Field(max_length=255, index=True)
    target: str = Field(max_length=255)
    trigger: str = Field(max_length=255, description="manual, cli, alert:<rule>, ...")
    state: RunState = Field(max_length=32)
    is_dry_run: bool = False
    labels: str = Field(default="{}", description="JSON of the labels it was started with.")
    flow_run_id: str | None = Field(default=None, max_length=64)
    lock_lease_id: str | None = Field(
        default=None, max_length=64, description="Prefect lease of the target's lock it held."
    )
    requested_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    message: str = ""


class RecoveryGuard(SQLModel, table=True):
    """Safety state of one procedure on one target; updated compare-and-set on ``version``."""

    __tablename__ = "recovery_guard"
    __table_args__ = (UniqueConstraint("procedure", "target", name="uq_recovery_guard"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure: str = Field(max_length=255)
    target: str = Field(max_length=255)
    consecutive_failures: int = 0
    is_disabled: bool = False
    last_finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    version: int = 0


class AuditEvent(StrEnum):
    """Kinds of recorded decisions."""

    TRIGGERED = "triggered"  # someone or something asked for a run
    SKIPPED = "skipped"  # the safety gate or a precondition said no (detail says why)
    ADMITTED = "admitted"  # the safety gate let it through
    QUEUED = "queued"  # the target was busy; the run waits behind the run in the detail
    SUPERSEDED = "superseded"  # the same procedure was already in progress; not run again
    APPROVAL_REQUESTED = "approval_requested"  # the run paused for a person
    APPROVED = "approved"  # a person (actor) approved
    APPROVAL_REFUSED = "approval_refused"  # an answer did not count: not an operator, bad code
    REJECTED = "rejected"  # a person (actor) or the timeout rejected
    STEP_SUCCEEDED = "step_succeeded"  # a step finished (detail: attempts, output)
    STEP_FAILED = "step_failed"  # a step failed for good
    ROLLED_BACK = "rolled_back"  # a completed step was undone
    ROLLBACK_FAILED = "rollback_failed"  # undoing a step failed; needs a person
    VERIFIED = "verified"  # the verification probe passed
    SUCCEEDED = "succeeded"  # the run ended well
    FAILED = "failed"  # the run ended badly
    DRY_RUN = "dry_run"  # a step was rendered only
    DISABLED = "disabled"  # auto-disabled after consecutive failures
    ENABLED = "enabled"  # an operator re-enabled it
    REMEDIATION = "remediation"  # remediate-then-escalate's verdict: fixed, failed, reset


class RecoveryAudit(SQLModel, table=True):
    """One recorded decision about a procedure on a target."""

    __tablename__ = "recovery_audit"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, index=True)
    procedure: str = Field(max_length=255)
    target: str = Field(max_length=255)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    event: AuditEvent = Field(max_length=32)
    actor: str = Field(default="vigil", max_length=255)
    path: str = Field(
        default="", max_length=32, description="Where a person's answer came from (ApprovalPath)."
    )
    detail: str = ""
