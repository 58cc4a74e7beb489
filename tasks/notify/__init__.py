"""Notification delivery: the outbox and apprise channels."""
