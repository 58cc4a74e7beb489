"""Alerting adapters: the engine on the batch seam, the store of alerts, the outbox, apprise."""
