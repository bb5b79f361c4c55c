-- Calendar documents, versioned like policies: one row per version, never updated; the newest
-- per jurisdiction is in force ('*' is the national calendar for jurisdictions without one).
CREATE TABLE calendar_versions (
    version       bigserial PRIMARY KEY,
    jurisdiction  text NOT NULL,
    spec          jsonb NOT NULL,
    source        text NOT NULL CHECK (source IN ('file', 'api')),
    actor         text,
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calendar_versions_newest ON calendar_versions (jurisdiction, version DESC);
