"""Words of access: where an approval came from, what happened at the dashboard's door."""

from enum import StrEnum


class ApprovalPath(StrEnum):
    """Where an approval answer came from; recorded with it in the recovery audit."""

    PREFECT_UI = "prefect-ui"  # the Resume form in the Prefect UI, with a code from the dashboard
    DASHBOARD = "dashboard"  # the Recoveries page, as the logged-in user
    CLI = "cli"  # `vigil recovery approve|reject`: as the API token's user, or a dashboard code
    API = "api"  # Vigil's HTTP API, as the token's user


class LoginEvent(StrEnum):
    """What happened at the dashboard's door."""

    LOGIN = "login"  # right password; a session began
    FAILED = "failed"  # wrong user name or password
    THROTTLED = "throttled"  # tried again before the delay after a failure was over
    LOCKED = "locked"  # too many failures: the account is locked (detail: until when)
    REFUSED_LOCKED = "refused_locked"  # tried while locked (the password was not checked)
    UNLOCKED = "unlocked"  # an admin lifted the lockout (detail: who)
    LOGOUT = "logout"  # the session ended on request
