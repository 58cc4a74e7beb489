"""Pure check logic: assertions, soft/hard states, rounds, health scores."""
