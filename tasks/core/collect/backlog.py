"""A bounded backlog of samples a failed write left behind, to send with the next write."""

from collections.abc import Sequence
from typing import Any


class Backlog:
    """Samples waiting for the store, oldest first; at most ``limit``, the oldest go first.

    Dropping the oldest keeps what alerting and the dashboard need most, the present.
    A plain class on purpose: Prefect walks dataclass and list task parameters looking
    for futures, which would visit every held sample on every tick.

    >>> backlog = Backlog(limit=3)
    >>> backlog.hold([1, 2]), backlog.hold([3, 4])
    (0, 1)
    >>> backlog.take(), backlog.dropped
    ([2, 3, 4], 1)
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.dropped = 0  # samples lost to the limit, over the backlog's life
        self._samples: list[Any] = []

    def hold(self, samples: Sequence[Any]) -> int:
        """Keep ``samples`` after those already held; return how many old ones were dropped."""
        self._samples.extend(samples)
        excess = len(self._samples) - self.limit
        if excess <= 0:
            return 0
        del self._samples[:excess]
        self.dropped += excess
        return excess

    def take(self) -> list[Any]:
        """Return every held sample, oldest first, and hold none."""
        taken, self._samples = self._samples, []
        return taken

    def __len__(self) -> int:
        return len(self._samples)
