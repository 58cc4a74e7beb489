"""Pure logic of the HTTP API: tokens and roles."""
