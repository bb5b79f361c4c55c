-- Channel messages (SMS, WhatsApp, social media) that intake has handled, one row per adapter
-- message id, written in the transaction of the effect: a repeat finds its row and changes
-- nothing. Purged after CHANNEL_DEDUPE_RETENTION_DAYS (by handled_at).
CREATE TABLE channel_messages (
    adapter       text NOT NULL,
    message_id    text NOT NULL,
    channel       text NOT NULL,
    received_at   timestamptz NOT NULL,
    outcome       text,            -- created, replied, info_added, refused
    complaint_id  uuid,
    handled_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (adapter, message_id)
);
CREATE INDEX channel_messages_handled ON channel_messages (handled_at);

-- Who may write about a complaint by channel: a keyed hash (HMAC) of the sender's address,
-- never the address itself. Kept as long as the complaint.
CREATE TABLE channel_senders (
    complaint_id  uuid NOT NULL REFERENCES complaints (id),
    sender_hash   text NOT NULL,
    channel       text NOT NULL,
    since         timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, sender_hash)
);
