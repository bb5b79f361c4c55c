"""sla's adapters: the clock store and the unit of work."""
