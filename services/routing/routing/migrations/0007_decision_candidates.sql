-- What an operator needs to decide a triage item in one look: every candidate routing weighed
-- (category, confidence, where the jurisdiction sends it) and the words that drove the read.
-- Looked up by tracking number, the number staff and the console work with.
ALTER TABLE routing_decisions
    ADD COLUMN candidates  jsonb  NOT NULL DEFAULT '[]',
    ADD COLUMN explanation text[] NOT NULL DEFAULT '{}',
    ADD COLUMN category    text;
CREATE INDEX routing_decisions_by_tracking_number ON routing_decisions (tracking_number, id);
