"""``self_watch:`` in vigil.yaml: Vigil's alerts about itself and its dead man's switch."""

from datetime import timedelta

from pydantic import Field, PositiveFloat

from models.config.base import Duration, StrictModel


class Heartbeat(StrictModel):
    """A notice sent every ``every`` to ``channel``: an external receiver that stops getting
    them knows Vigil (or its delivery) is down."""

    channel: str = Field(description="The channel that receives the heartbeat.")
    every: Duration = Field(timedelta(minutes=5), description="Time between two heartbeats.")


class SelfWatch(StrictModel):
    """Built-in rules about Vigil itself (on by default; silence them like any rule)."""

    enabled: bool = Field(True, description="Add the built-in Vigil* rules to the rules.")
    collection_stopped_after: Duration = Field(
        timedelta(minutes=5), description="No collect tick stored for this long."
    )
    outbox_depth: int = Field(100, gt=0, description="Undelivered notices that mean a backlog.")
    outbox_oldest_age: Duration = Field(
        timedelta(minutes=15), description="Age of the oldest undelivered notice that is too old."
    )
    channel_failures: int = Field(3, gt=0, description="Consecutive failed sends of a channel.")
    store_slow_seconds: PositiveFloat = Field(2.0, description="A store write slower than this.")
    retention_lag: Duration = Field(
        timedelta(days=1), description="Data kept this long past its retention."
    )
    deployment_window: Duration = Field(
        timedelta(hours=1), description="Late or failed runs of a deployment counted over this."
    )
    heartbeat: Heartbeat | None = Field(None, description="The dead man's switch (off if unset).")
