-- The outbox: events a service committed together with its state, waiting for the relay.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL UNIQUE,
    topic        text NOT NULL,
    key          bytea,
    value        bytea NOT NULL,
    headers      jsonb NOT NULL,
    traceparent  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- The inbox: event ids a consumer has applied, written in the same transaction as the effect.
CREATE TABLE inbox (
    consumer   text NOT NULL,
    event_id   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
