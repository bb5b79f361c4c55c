"""routing: decides which OPD is responsible for a complaint, or hands it to human triage."""
