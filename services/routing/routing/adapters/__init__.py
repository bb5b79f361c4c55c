"""routing's adapters: the decision log and the unit of work."""
