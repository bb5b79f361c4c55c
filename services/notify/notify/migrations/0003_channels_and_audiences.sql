-- Issue 10: every audience and channel. What notify keeps of each complaint (no personal data),
-- how the citizen wants to hear, the OPDs' and operators' addresses, front ends' webhooks, and
-- each delivery's channel chain and attempt log.

CREATE TABLE complaints (
    complaint_id     uuid PRIMARY KEY,
    tracking_number  text NOT NULL,
    jurisdiction     text NOT NULL,
    channel          text NOT NULL,            -- how it came in: web, sms, whatsapp, open311, ...
    anonymous        boolean NOT NULL,
    frontend         text,                     -- the registered front end that submitted it
    title            text NOT NULL DEFAULT '', -- for OPD staff's message (never the citizen's identity)
    opd_id           text,                     -- with whom it is now, and its name, for staff messages
    opd_name         text,
    submitted_at     timestamptz NOT NULL
);

ALTER TABLE contacts
    ADD COLUMN has_phone boolean NOT NULL DEFAULT false,
    ADD COLUMN access_token_hash text,
    ADD COLUMN preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN preferences_updated_at timestamptz;
CREATE INDEX contacts_tracking_number ON contacts (tracking_number);

-- OPD staff, OPD heads, operators and the Inspektorat: one address on one channel per row,
-- sealed like citizens' contacts.
CREATE TABLE staff_addresses (
    id              uuid PRIMARY KEY,
    jurisdiction    text NOT NULL,
    role            text NOT NULL CHECK (role IN ('opd_staff', 'opd_head', 'operator', 'inspektorat')),
    opd_id          text,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    sealed_address  bytea NOT NULL,
    language        text NOT NULL DEFAULT 'id',
    digest          boolean NOT NULL DEFAULT false,
    label           text,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_addresses_for ON staff_addresses (jurisdiction, role, opd_id) WHERE active;

CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    frontend        text NOT NULL,             -- the front end's API key name in intake
    url             text NOT NULL,
    sealed_secret   bytea NOT NULL,
    description     text,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_frontend ON webhook_endpoints (frontend) WHERE active;

-- One delivery per (fact, recipient), whichever channel carries it.
ALTER TABLE deliveries
    ADD COLUMN audience text NOT NULL DEFAULT 'citizen',
    ADD COLUMN jurisdiction text,
    ADD COLUMN tracking_number text,
    ADD COLUMN channels text[] NOT NULL DEFAULT '{}',
    ADD COLUMN channel_index int NOT NULL DEFAULT 0,
    ADD COLUMN channel_attempts int NOT NULL DEFAULT 0,
    DROP CONSTRAINT deliveries_fact_recipient_channel_key,
    ADD CONSTRAINT deliveries_fact_recipient_key UNIQUE (about_event_id, recipient_id);
UPDATE deliveries SET channels = ARRAY[channel] WHERE status <> 'pending';
UPDATE deliveries SET channel = 'pending' WHERE status = 'pending';
CREATE INDEX deliveries_of_complaint ON deliveries (complaint_id, created_at);
CREATE INDEX deliveries_held ON deliveries (recipient_id, fact_at) WHERE status = 'held';
CREATE INDEX deliveries_rating ON deliveries (complaint_id) WHERE status = 'pending' AND template = 'rating_requested';

-- The delivery log: every attempt, on which channel, and how it ended. No addresses.
CREATE TABLE delivery_attempts (
    delivery_id     uuid NOT NULL,
    n               int NOT NULL,
    at              timestamptz NOT NULL,
    channel         text NOT NULL,
    transport       text,
    outcome         text NOT NULL,   -- sent, retry, fallback, failed, deferred, skipped
    error_class     text,
    detail          text,
    provider_ref    text,
    PRIMARY KEY (delivery_id, n)
);

-- Operators' daily digests already composed: one per recipient and local day.
CREATE TABLE digests (
    recipient_id    uuid NOT NULL,
    day             date NOT NULL,
    delivery_id     uuid NOT NULL,
    items           int NOT NULL,
    PRIMARY KEY (recipient_id, day)
);
