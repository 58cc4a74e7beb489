"""The states of a recovery run, shared by the store's tables and the run's pure decisions."""

from enum import StrEnum


class RunState(StrEnum):
    """Where a recovery run is."""

    ADMITTED = "admitted"  # passed the safety gate; the flow has not acted yet
    QUEUED = "queued"  # waiting for another recovery on the same target to finish
    AWAITING_APPROVAL = "awaiting_approval"  # paused until a person decides
    RUNNING = "running"  # executing steps
    SUCCEEDED = "succeeded"  # every step done and the verification passed
    FAILED = "failed"  # a step or the verification failed; completed steps rolled back
    REJECTED = "rejected"  # a person (or the approval timeout) said no; nothing changed
    SKIPPED = "skipped"  # a precondition did not hold or the queue wait ran out; nothing changed
    SUPERSEDED = "superseded"  # the same procedure was already in progress on the target
    DRY_RUN = "dry_run"  # rendered only; nothing changed
