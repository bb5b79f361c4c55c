"""routing's adapters: the decision log, the kept complaint texts, the unit of work."""
