-- What people taught routing: an operator's disposal (from triage, or a reassignment) is a
-- positive example (this text belongs to this OPD); an OPD's "bukan wewenang" is a negative one
-- (this text does not belong to that OPD). Read by the next training run, never by routing.
CREATE TABLE labelled_examples (
    id              bigserial PRIMARY KEY,
    complaint_id    uuid NOT NULL,
    tracking_number text NOT NULL,
    jurisdiction    text NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL,
    opd_id          text NOT NULL,
    positive        boolean NOT NULL,
    source          text NOT NULL,          -- operator_assign, operator_reassign, rejection
    decided_by      text NOT NULL,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (complaint_id, opd_id, positive)
);
CREATE INDEX labelled_examples_by_time ON labelled_examples (recorded_at);
