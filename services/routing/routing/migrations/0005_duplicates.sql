-- Duplicate candidates (routing/domain/duplicates.py). Each recent complaint's MinHash
-- signature with what the rule compares (main category, place, time), and one row per LSH band
-- key, so the earlier complaints sharing a band with a new one are found by one indexed query
-- however many complaints there are. Both only need rows for the time window: a retention rule
-- purges them by `submitted_at` (routing/app.py).
CREATE TABLE duplicate_signatures (
    complaint_id     uuid PRIMARY KEY,
    tracking_number  text NOT NULL,
    jurisdiction     text NOT NULL,
    submitted_at     timestamptz NOT NULL,
    category         text,
    lat              double precision,
    lon              double precision,
    kecamatan        text,
    signature        bigint[] NOT NULL
);
CREATE INDEX duplicate_signatures_by_time ON duplicate_signatures (submitted_at);

CREATE TABLE duplicate_bands (
    jurisdiction     text NOT NULL,
    band_key         bigint NOT NULL,          -- band number and its rows hashed together
    complaint_id     uuid NOT NULL,
    submitted_at     timestamptz NOT NULL,
    PRIMARY KEY (jurisdiction, band_key, complaint_id)
);
CREATE INDEX duplicate_bands_by_time ON duplicate_bands (submitted_at);

-- What operators decide on: a complaint and an earlier one that may report the same problem.
-- open until an operator merges them (intake's merge; routing hears ComplaintMerged) or
-- dismisses the pair. Kept after the window: it is the record of what was proposed and decided.
CREATE TABLE duplicate_candidates (
    id                         bigserial PRIMARY KEY,
    jurisdiction               text NOT NULL,
    complaint_id               uuid NOT NULL,
    tracking_number            text NOT NULL,
    candidate_id               uuid NOT NULL,
    candidate_tracking_number  text NOT NULL,
    candidate_submitted_at     timestamptz NOT NULL,
    similarity                 real NOT NULL,
    distance_m                 real,
    found_at                   timestamptz NOT NULL,
    status                     text NOT NULL DEFAULT 'open'
                               CHECK (status IN ('open', 'merged', 'dismissed')),
    decided_by                 text,
    decided_at                 timestamptz,
    UNIQUE (complaint_id, candidate_id)
);
CREATE INDEX duplicate_candidates_by_status ON duplicate_candidates (jurisdiction, status, found_at);
CREATE INDEX duplicate_candidates_by_candidate ON duplicate_candidates (candidate_id);
