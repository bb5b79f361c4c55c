"""notify's adapters: contacts and deliveries on PostgreSQL, the SMTP mailer, the unit of work."""
