"""Local development infrastructure (databases, brokers, mail) that runs without Docker."""
