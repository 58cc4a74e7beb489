"""Pure store upkeep decisions (what retention keeps), with no I/O."""
