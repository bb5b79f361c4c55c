-- Routing decides again after "bukan wewenang" and after a postponed complaint comes back:
-- several decisions per complaint (each says what triggered it), and the text it routes by.
ALTER TABLE routing_decisions DROP CONSTRAINT routing_decisions_pkey;
ALTER TABLE routing_decisions
    ADD COLUMN id         bigserial PRIMARY KEY,
    ADD COLUMN trigger    text NOT NULL DEFAULT 'submitted',
    ADD COLUMN decided_by text NOT NULL DEFAULT 'routing';
CREATE INDEX routing_decisions_by_complaint ON routing_decisions (complaint_id, decided_at);

CREATE TABLE routed_complaints (
    complaint_id     uuid PRIMARY KEY,
    tracking_number  text NOT NULL,
    jurisdiction     text NOT NULL,
    language         text NOT NULL,
    title            text NOT NULL,
    description      text NOT NULL,
    added_info       text[] NOT NULL DEFAULT '{}',
    rejected_by      text[] NOT NULL DEFAULT '{}'
);
