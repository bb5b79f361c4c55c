"""Pure notify logic: rendering messages from templates, retry schedule."""
