"""Pure intake logic: no I/O."""
