-- One row per running deadline. Later issues add warning and breach processing, claimed with
-- FOR UPDATE SKIP LOCKED so several sla workers share the load.
CREATE TABLE clocks (
    complaint_id     uuid NOT NULL,
    clock            text NOT NULL,
    tracking_number  text NOT NULL,
    opd_id           text,
    started_at       timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    working_days     int NOT NULL,
    timezone         text NOT NULL,
    state            text NOT NULL DEFAULT 'running',
    PRIMARY KEY (complaint_id, clock)
);
CREATE INDEX clocks_running_due ON clocks (due_at) WHERE state = 'running';
