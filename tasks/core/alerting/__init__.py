"""Pure alerting logic: rule evaluation, the alert lifecycle, grouping, muting, escalation."""
