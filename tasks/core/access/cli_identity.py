"""Who a command-line write acts as: an API token's user, or the local admin. Pure rules.

A token acts for its user with the role the API would grant it (``tasks/core/api/tokens.py``)
and is recorded as the API records it (``user/token``). The local admin is whoever owns the
state directory of `vigil up`, recorded as ``local-admin:<os user>``.
"""

import stat
from dataclasses import dataclass

from models.config.dashboard import Role
from tasks.core.api.tokens import Identity

TOKEN_ENV = "VIGIL_API_TOKEN"
DEFAULT_TOKEN_FILE = "~/.config/vigil/token"
NO_IDENTITY = (
    "this command changes things, so it needs to know who you are: "
    f"put an API token in ${TOKEN_ENV} or in {DEFAULT_TOKEN_FILE} (mode 0600; make one with "
    "`vigil api token create NAME --user YOU --role operator`), or pass --as-admin on the "
    "machine whose state directory you own"
)


@dataclass(frozen=True)
class Actor:
    """Who a CLI write acts as."""

    user: str  # a user of dashboard.users, or local-admin:<os user>
    role: Role
    actor: str  # the name recorded in timelines and audits
    how: str  # how it was proven, said back to the person

    @property
    def is_local_admin(self) -> bool:
        """True when it is the local admin rather than a dashboard user."""
        return self.user.startswith("local-admin:")

    def describe(self) -> str:
        """One line for the person at the terminal.

        >>> token_actor(Identity("cli-ana", "ana", Role.OPERATOR), "$VIGIL_API_TOKEN").describe()
        'acting as ana (token cli-ana from $VIGIL_API_TOKEN)'
        """
        return f"acting as {self.user} ({self.how})"


def token_actor(identity: Identity, source: str) -> Actor:
    """The actor of a checked token, recorded as the API records it (``user/token``)."""
    how = f"token {identity.token} from {source}"
    return Actor(identity.user, identity.role, identity.actor, how)


def local_admin(os_user: str, state_dir: str) -> Actor:
    """The local admin, recorded as ``local-admin:<os user>``.

    >>> local_admin("root", ".vigil").actor
    'local-admin:root'
    """
    name = f"local-admin:{os_user}"
    return Actor(name, Role.ADMIN, name, f"--as-admin, owner of {state_dir}")


def token_file_refusal(path: str, mode: int) -> str | None:
    """Say why the token file at ``path`` with ``mode`` (from stat) may not be used, or None.

    >>> token_file_refusal("/home/ana/t", 0o100644)
    '/home/ana/t has mode 0644: others may read the API token in it; run chmod 600 /home/ana/t'
    >>> token_file_refusal("/home/ana/t", 0o100600) is None
    True
    """
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file; put the API token alone in a file"
    if mode & 0o077:
        perms = f"{stat.S_IMODE(mode):04o}"
        return f"{path} has mode {perms}: others may read the API token in it; run chmod 600 {path}"
    return None


def admin_refusal(state_dir: str, owner_uid: int | None, uid: int) -> str | None:
    """Say why OS user ``uid`` may not act as local admin, or None when they own ``state_dir``.

    >>> admin_refusal(".vigil", 1000, 1001)
    '--as-admin: .vigil belongs to uid 1000, not to you (uid 1001); use an API token'
    """
    if owner_uid is None:
        return (
            f"--as-admin: there is no state directory {state_dir} (`vigil up` makes it; "
            "VIGIL_STATE_DIR says where it is); use an API token"
        )
    if owner_uid != uid:
        return (
            f"--as-admin: {state_dir} belongs to uid {owner_uid}, not to you (uid {uid}); "
            "use an API token"
        )
    return None
