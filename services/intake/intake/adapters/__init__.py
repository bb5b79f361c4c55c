"""intake's adapters: the PostgreSQL complaint repository and the unit of work."""
