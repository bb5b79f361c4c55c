-- Clocks for the whole lifecycle: started, paused, resumed, stopped by lifecycle facts; warned,
-- breached and escalated by the firing loop, which claims due rows with FOR UPDATE SKIP LOCKED
-- so several sla workers share the work and never fire the same clock twice.
--
-- A clock is named by `clock_id` (derived from complaint, kind and the instant of the fact that
-- started it), so a replayed fact starts nothing twice. The policy it started with is kept as
-- `policy_version` plus `plan_id`: the warnings and escalation ladder it follows (shared rows in
-- `clock_plans`, so a million clocks do not each carry the same JSON).

CREATE TABLE clock_plans (
    plan_id   serial PRIMARY KEY,
    plan      jsonb NOT NULL UNIQUE
);

ALTER TABLE clocks RENAME COLUMN clock TO kind;
ALTER TABLE clocks ADD COLUMN clock_id uuid;
UPDATE clocks SET clock_id = md5(complaint_id::text || '/' || kind || '/' || started_at::text)::uuid;
ALTER TABLE clocks DROP CONSTRAINT clocks_pkey;
ALTER TABLE clocks ALTER COLUMN clock_id SET NOT NULL;
ALTER TABLE clocks ADD PRIMARY KEY (clock_id);
DROP INDEX IF EXISTS clocks_running_due;

ALTER TABLE clocks
    ADD COLUMN jurisdiction        text NOT NULL DEFAULT '',
    ADD COLUMN category            text,
    ADD COLUMN report_type         text,
    ADD COLUMN policy_version      int NOT NULL DEFAULT 0,
    ADD COLUMN plan_id             int REFERENCES clock_plans (plan_id),
    ADD COLUMN budget_seconds      double precision NOT NULL DEFAULT 0,
    ADD COLUMN segment_started_at  timestamptz,
    ADD COLUMN used_seconds        double precision NOT NULL DEFAULT 0,
    ADD COLUMN remaining_seconds   double precision,
    ADD COLUMN paused_at           timestamptz,
    ADD COLUMN outcome             text,
    ADD COLUMN stopped_at          timestamptz,
    ADD COLUMN working_seconds_used double precision,
    ADD COLUMN warnings_sent       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN at_risk_since       timestamptz,
    ADD COLUMN breached_at         timestamptz,
    ADD COLUMN escalation_step     int NOT NULL DEFAULT 0,
    ADD COLUMN escalation_level    text,
    ADD COLUMN next_fire_at        timestamptz,
    ADD COLUMN updated_at          timestamptz NOT NULL DEFAULT now();

-- Clocks of the first issue: a running one is moved into the new shape, due to fire at once
-- (the loop then computes what it still owes: nothing is lost in the upgrade).
UPDATE clocks SET segment_started_at = started_at,
                  next_fire_at = CASE WHEN state = 'running' THEN due_at END;

-- What the firing loop claims: only rows with something to do, in due order.
CREATE INDEX clocks_fire ON clocks (next_fire_at) WHERE next_fire_at IS NOT NULL;
-- A complaint's clocks, for each lifecycle fact.
CREATE INDEX clocks_complaint ON clocks (complaint_id);
-- What operators list: open clocks per jurisdiction and OPD, by deadline.
CREATE INDEX clocks_open ON clocks (jurisdiction, opd_id, due_at) WHERE state IN ('running', 'paused');
-- Per-OPD figures over a period (first responses by start).
CREATE INDEX clocks_figures ON clocks (jurisdiction, kind, started_at);

-- Every alert, in order: the live stream (SSE, resumable by id) and the alert listing read it.
CREATE TABLE alerts (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    type            text NOT NULL,             -- warning | breach | escalation
    clock_id        uuid NOT NULL,
    complaint_id    uuid NOT NULL,
    tracking_number text NOT NULL,
    jurisdiction    text NOT NULL,
    opd_id          text,
    kind            text NOT NULL,             -- the clock's kind
    due_at          timestamptz NOT NULL,
    level           text,                      -- escalations: who must act now
    threshold       text,                      -- warnings: which one
    occurred_at     timestamptz NOT NULL,
    payload         jsonb NOT NULL
);
CREATE INDEX alerts_scope ON alerts (jurisdiction, opd_id, id);

-- What the figures need beyond clocks: each disposition (complaints received per OPD) and each
-- rating of a closing (the citizens' average), both from lifecycle facts.
CREATE TABLE received (
    complaint_id  uuid NOT NULL,
    opd_id        text NOT NULL,
    jurisdiction  text NOT NULL,
    disposed_at   timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, opd_id, disposed_at)
);
CREATE INDEX received_period ON received (jurisdiction, disposed_at);

CREATE TABLE ratings (
    complaint_id  uuid NOT NULL,
    opd_id        text,
    jurisdiction  text NOT NULL,
    rating        int NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_at      timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, rated_at)
);
CREATE INDEX ratings_period ON ratings (jurisdiction, rated_at);

-- What sla remembers of each complaint to choose policies (category and report type arrive
-- with the first disposition; later dispositions by hand may not repeat them).
CREATE TABLE complaint_facts (
    complaint_id  uuid PRIMARY KEY,
    jurisdiction  text NOT NULL,
    category      text,
    report_type   text,
    submitted_at  timestamptz
);
