"""Access I/O: the dashboard's door (logins, lockouts, sessions) and the configuration audit."""
