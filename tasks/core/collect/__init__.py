"""Pure collection logic: exposition and push parsing, rates, restarts."""
