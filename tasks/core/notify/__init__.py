"""Pure notification logic: shaping per medium, circuit breakers, rate limits."""
