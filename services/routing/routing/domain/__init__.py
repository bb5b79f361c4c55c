"""Pure routing logic: no I/O."""
