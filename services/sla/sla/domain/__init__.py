"""Pure SLA logic: working-day arithmetic and clocks; time always comes in as an argument."""
