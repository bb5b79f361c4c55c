-- Tracking numbers are numeric and sequential, as LAPOR!'s are.
CREATE SEQUENCE tracking_number_seq START 1000001;

CREATE TABLE complaints (
    id                     uuid PRIMARY KEY,
    tracking_number        text NOT NULL UNIQUE,
    jurisdiction           text NOT NULL,
    channel                text NOT NULL,
    title                  text NOT NULL,
    description            text NOT NULL,
    category               text,
    location               jsonb,
    anonymous              boolean NOT NULL,
    confidential           boolean NOT NULL,
    language               text NOT NULL,
    reporter_sealed        bytea,          -- Fernet-encrypted identity, never stored in clear
    access_token_hash      text NOT NULL,  -- sha256 of the citizen's secret token
    status                 text NOT NULL,
    assigned_opd_id        text,
    assigned_opd_name      text,
    first_response_due_at  timestamptz,
    submitted_at           timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE complaint_history (
    id            bigserial PRIMARY KEY,
    complaint_id  uuid NOT NULL REFERENCES complaints (id),
    at            timestamptz NOT NULL,
    status        text NOT NULL,
    action        text NOT NULL,
    actor         text NOT NULL,
    note          text NOT NULL
);
CREATE INDEX complaint_history_by_complaint ON complaint_history (complaint_id, at, id);
