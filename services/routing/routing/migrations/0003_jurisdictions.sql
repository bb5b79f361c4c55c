-- Jurisdictions (cities, regencies) and every version of their configuration: the audit
-- history of who changed what, when and why. The current configuration is the latest version.
-- `source` says where a version came from: a configuration file at start ('file') or an
-- operator through the API ('api').
CREATE TABLE jurisdiction_versions (
    jurisdiction_id text        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    config          jsonb       NOT NULL,
    source          text        NOT NULL CHECK (source IN ('file', 'api')),
    changed_by      text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    reason          text        NOT NULL,
    PRIMARY KEY (jurisdiction_id, version)
);
