"""Pure logic: no Prefect, no I/O, no environment, no clock reads."""
