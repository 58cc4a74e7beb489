"""Alerting adapters: the engine on the batch seam, alert rows, muting, grouping, escalation."""
