"""Pure rules of access: login throttling and signed session tokens."""
