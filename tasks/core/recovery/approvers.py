"""Who may answer an approval, and what an answer means: pure rules, no I/O.

An answer names an operator (a dashboard user with role operator or admin) and carries a
one-time code that the dashboard showed to that user for this run. A procedure marked
``dangerous`` needs two different operators to approve; one valid rejection ends it.
"""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen, typed
CODE_LENGTH = 10  # 50 bits; single use, bound to one user and one run, valid minutes


def new_code() -> str:
    """Return a fresh random one-time code.

    >>> len(new_code()), set(new_code()) <= set(CODE_ALPHABET)
    (10, True)
    """
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(code: str) -> str:
    """Return the stored form of ``code`` (case, spaces and dashes do not matter).

    >>> code_hash("abcd-efgh 23") == code_hash("ABCDEFGH23")
    True
    """
    normal = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


class Outcome(StrEnum):
    """What one answer does to the gate."""

    REFUSED = "refused"  # not counted: wrong person or proof; the run waits again
    REJECTED = "rejected"  # a valid operator said no; the run ends unchanged
    APPROVED = "approved"  # enough different operators said yes; the run goes on
    NEEDS_ANOTHER = "needs_another"  # a valid yes, but a dangerous procedure needs one more


@dataclass(frozen=True)
class Answer:
    """One submitted approval form."""

    approved: bool
    reason: str
    approver: str
    code: str


def refusal(answer: Answer, operators: frozenset[str], approved_by: tuple[str, ...]) -> str:
    """Say why ``answer`` cannot count before its code is checked ("" when it may).

    >>> refusal(Answer(True, "", "eve", "X"), frozenset({"ann"}), ())
    "'eve' is not an operator; operators: ann"
    >>> refusal(Answer(True, "", "ann", "X"), frozenset({"ann"}), ("ann",))
    'ann already approved; a dangerous procedure needs a second, different operator'
    """
    if answer.approver not in operators:
        known = ", ".join(sorted(operators)) or "none configured (dashboard.users)"
        return f"{answer.approver!r} is not an operator; operators: {known}"
    if not answer.code.strip():
        return f"{answer.approver} gave no approval code; get one on the dashboard"
    if answer.approved and answer.approver in approved_by:
        return (
            f"{answer.approver} already approved; "
            "a dangerous procedure needs a second, different operator"
        )
    return ""


def outcome(answer: Answer, approved_by: tuple[str, ...], *, needed: int) -> Outcome:
    """Return what a valid (checked) answer does, given who approved before.

    >>> outcome(Answer(True, "", "ann", "X"), (), needed=2)
    <Outcome.NEEDS_ANOTHER: 'needs_another'>
    >>> outcome(Answer(True, "", "bob", "X"), ("ann",), needed=2)
    <Outcome.APPROVED: 'approved'>
    """
    if not answer.approved:
        return Outcome.REJECTED
    return Outcome.APPROVED if len(approved_by) + 1 >= needed else Outcome.NEEDS_ANOTHER
