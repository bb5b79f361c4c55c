-- Every routing decision, kept for audit and, later, to learn from triage and rejections.
CREATE TABLE routing_decisions (
    complaint_id     uuid PRIMARY KEY,
    tracking_number  text NOT NULL,
    jurisdiction     text NOT NULL,
    opd_id           text,
    confidence       real NOT NULL,
    reason           text NOT NULL,
    suggestions      text[] NOT NULL DEFAULT '{}',
    decided_at       timestamptz NOT NULL
);
