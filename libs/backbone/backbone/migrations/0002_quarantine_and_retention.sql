-- A row the broker can never take (too large, topic gone, refused) is set aside with its reason,
-- so the rows behind it flow on; an operator can inspect, fix and release it (quarantined_at NULL).
ALTER TABLE outbox ADD COLUMN quarantined_at timestamptz;
ALTER TABLE outbox ADD COLUMN quarantine_reason text;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL AND quarantined_at IS NULL;
CREATE INDEX outbox_quarantined ON outbox (id) WHERE quarantined_at IS NOT NULL;
-- Retention: published rows and applied inbox ids are purged on a schedule; these serve it.
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX inbox_applied_at ON inbox (applied_at);
