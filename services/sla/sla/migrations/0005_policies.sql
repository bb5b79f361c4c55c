-- SLA policy documents, versioned: one row per version, never updated. The newest per
-- jurisdiction is in force ('*' is the national default the others build on); a clock keeps
-- the version and plan it started with, so a change never moves a running clock.
CREATE TABLE policy_versions (
    version       bigserial PRIMARY KEY,
    jurisdiction  text NOT NULL,
    spec          jsonb NOT NULL,
    source        text NOT NULL CHECK (source IN ('file', 'api')),
    actor         text,
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX policy_versions_newest ON policy_versions (jurisdiction, version DESC);
