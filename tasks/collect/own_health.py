"""What the collect run knows of the store, written with each tick so rules can watch it.

``vigil_collect_tick`` says a tick ran (its age is what "collection stopped" measures);
``vigil_store_up`` is 0 while the store refuses this run's writes: those samples wait
in the backlog and reach the store with the first batch it takes, so the outage is
recorded (and alerted on) once it is over; ``vigil_store_write_seconds`` is the
previous batch's write time.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from models.store import NewSample


@dataclass
class StoreHealth:
    """The outcome of this run's last store write."""

    is_up: bool = True
    write_seconds: float | None = None

    def samples(self, now_s: float, labels: Mapping[str, str]) -> list[NewSample]:
        """This tick's own samples, stamped ``now_s``."""
        out = [
            NewSample("vigil_collect_tick", labels, now_s, 1.0),
            NewSample("vigil_store_up", labels, now_s, float(self.is_up)),
        ]
        if self.write_seconds is not None:
            out.append(NewSample("vigil_store_write_seconds", labels, now_s, self.write_seconds))
        return out
