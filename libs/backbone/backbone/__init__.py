"""The event backbone every service runs on: transactional outbox and relay, idempotent
consumers with bounded retries and a dead-letter topic, tracing, health, settings, migrations.

It lives next to the contracts (libs/) so that no service writes its own copy.
"""
