"""The benchmark (`make bench`, `python -m bench`): how fast the platform turns HTTP submissions
into citizens' e-mails on this machine, next to what the machine's PostgreSQL and Kafka can do.

Not a test: nothing here passes or fails on a number; it measures and reports.
"""
