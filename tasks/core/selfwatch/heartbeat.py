"""When the dead man's switch sends its next heartbeat (pure)."""

HEARTBEAT_KIND = "heartbeat"


def heartbeat_due(last_sent_s: float | None, now_s: float, every_s: float) -> bool:
    """True when no heartbeat was queued in the last ``every_s`` seconds.

    >>> heartbeat_due(None, 100.0, 300.0), heartbeat_due(0.0, 100.0, 300.0)
    (True, False)
    """
    return last_sent_s is None or now_s - last_sent_s >= every_s


def heartbeat_text(now_iso: str, every_s: float) -> tuple[str, str]:
    """Title and body of one heartbeat notice."""
    title = "Vigil heartbeat"
    body = (
        f"Vigil is running at {now_iso}. The next heartbeat is due within {every_s:g} s; "
        "if none arrives, Vigil or its notification delivery is down."
    )
    return title, body
