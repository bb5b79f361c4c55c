"""Open311 GeoReport v2 (with mySociety's `servicerequestupdates` extension) on intake, so
existing civic front ends (FixMyStreet and the like) can submit and follow complaints unchanged.

`routes` (the HTTP edge, `/open311/v2/...`), `render` (JSON and XML), `mapping` (pure
translation both ways), `errors` (the spec's error list), `keys` (issuing API keys from a shell).
"""
