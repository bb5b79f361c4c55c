"""Pure notify logic: facts and the deliveries they owe, rendering messages from templates, retry
schedule."""
