"""Pure SLO logic: good and bad time or events, error budgets, burn rates, uptime."""
