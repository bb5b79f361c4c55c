"""The one shared contract between the services: event models, topic names, the lifecycle.

Services import this package and never each other, so a change of contract is a change here,
visible in one review.
"""
