"""What a store that cannot be reached raises, and its message on one line."""

from sqlalchemy.exc import InterfaceError, OperationalError

from models.errors import StoreError

UNAVAILABLE = (StoreError, OperationalError, InterfaceError)


def one_line(exc: Exception) -> str:
    """The driver's message on one line (psycopg's span several)."""
    return " ".join(str(getattr(exc, "orig", exc)).split())
