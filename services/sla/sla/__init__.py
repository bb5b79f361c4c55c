"""sla: deadlines in working days, the clocks that track them, warnings, breaches, escalations."""
