"""One error tree for Vigil.

Every error says what happened and how to fix it. ``is_transient`` tells retry
machinery (Prefect ``retry_condition_fn``, the outbox) whether trying again can help.
"""


class VigilError(Exception):
    """Root of every error Vigil raises on purpose."""

    is_transient = False


class ConfigError(VigilError):
    """A configuration file is missing, unreadable or invalid."""


class MatcherError(VigilError):
    """A series selector such as ``cpu{host=~"db.*"}`` cannot be parsed."""


class StoreError(VigilError):
    """The metric store cannot be reached or used."""

    is_transient = True


class ProbeError(VigilError):
    """A collector or health probe could not observe its target."""

    is_transient = True


class NotifyError(VigilError):
    """A notification could not be delivered."""

    is_transient = True


class RecoveryError(VigilError):
    """A recovery step failed."""


class OperatorInputError(VigilError, ValueError):
    """An operator's acknowledgement, silence or dismissal is refused; nothing is stored."""


class QueryError(VigilError, ValueError):
    """A PromQL query is malformed or asks for what Vigil does not evaluate."""


class AccessError(VigilError):
    """Who acts could not be established, or may not do this; nothing was written."""
