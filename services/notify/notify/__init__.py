"""notify: tells citizens what happened to their complaint, once, in their language."""
