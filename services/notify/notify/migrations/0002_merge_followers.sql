-- A duplicate merged into another complaint: its reporter hears what happens to that one from
-- `merged_at` on. Chains (a target merged again later) are followed by a recursive query.
CREATE TABLE merges (
    complaint_id       uuid PRIMARY KEY,          -- the duplicate
    into_complaint_id  uuid NOT NULL,
    merged_at          timestamptz NOT NULL
);
CREATE INDEX merges_into ON merges (into_complaint_id);

-- A fact may now owe messages to several citizens: the complaint's own (recipient_id =
-- complaint_id) and the reporter of each duplicate merged into it. One delivery per (fact,
-- recipient, channel). `fact_at` says when the fact happened, so a merge read after later news
-- of its target can catch its reporter up on exactly that news.
ALTER TABLE deliveries ADD COLUMN recipient_id uuid, ADD COLUMN fact_at timestamptz;
UPDATE deliveries SET recipient_id = complaint_id, fact_at = created_at;
ALTER TABLE deliveries
    ALTER COLUMN recipient_id SET NOT NULL,
    ALTER COLUMN fact_at SET NOT NULL,
    DROP CONSTRAINT deliveries_about_event_id_channel_key,
    ADD CONSTRAINT deliveries_fact_recipient_channel_key UNIQUE (about_event_id, recipient_id, channel);
CREATE INDEX deliveries_own_facts ON deliveries (complaint_id, fact_at) WHERE recipient_id = complaint_id;
