-- Front ends retry; an Idempotency-Key makes a retried POST return the first answer instead of
-- filing the complaint twice. The access token is kept sealed so the replay can show it again.
CREATE TABLE idempotency_keys (
    key           text PRIMARY KEY,
    request_hash  text NOT NULL,
    complaint_id  uuid NOT NULL REFERENCES complaints (id),
    token_sealed  bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
