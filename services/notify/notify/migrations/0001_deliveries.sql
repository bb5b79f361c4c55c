-- How to reach each complaint's citizen: identity sealed with Fernet, never stored in clear.
CREATE TABLE contacts (
    complaint_id     uuid PRIMARY KEY,
    tracking_number  text NOT NULL,
    sealed           bytea NOT NULL,
    has_email        boolean NOT NULL,
    language         text NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per message owed to a citizen: at most one per (event, channel), so a redelivered
-- event never produces a second e-mail. Sent by the dispatcher once the contact is known.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    complaint_id     uuid NOT NULL,
    about_event_id   uuid NOT NULL,
    channel          text NOT NULL,
    template         text NOT NULL,
    context          jsonb NOT NULL,
    traceparent      text,
    status           text NOT NULL DEFAULT 'pending',  -- pending, sent, skipped, failed
    attempts         int NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (about_event_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
