-- Open311 GeoReport v2: the front ends that may post (API keys, kept only as SHA-256 digests)
-- and what an Open311 request carried that the complaint record does not hold.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,              -- the front end, e.g. "fixmystreet-kota"
    key_sha256  text NOT NULL UNIQUE,       -- the key itself is shown once, never stored
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE TABLE open311_requests (
    complaint_id  uuid PRIMARY KEY REFERENCES complaints (id),
    api_key_id    uuid NOT NULL REFERENCES api_keys (id),  -- the front end that submitted it
    token         text NOT NULL UNIQUE,                    -- the Open311 token (tokens/{token})
    attributes    jsonb NOT NULL DEFAULT '{}',             -- attribute[code] values, validated
    media_url     text,
    address_id    text,
    device_id     text,
    account_id    text,
    created_at    timestamptz NOT NULL
);

-- GET servicerequestupdates: the history of public complaints by time.
CREATE INDEX complaint_history_by_time ON complaint_history (at, id);
