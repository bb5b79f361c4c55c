"""notify's adapters: contacts, deliveries and merge links on PostgreSQL, the SMTP mailer, the
unit of work."""
