"""intake: the front door. Records complaints, issues tracking numbers and access tokens, owns
each complaint's canonical status and history, and checks every change against the lifecycle."""
