-- The rest of a complaint's life: who rejected it, its deadlines, closing, rating and merging,
-- and a history that says who acted in which role, from which status, and with what details.
ALTER TABLE complaints
    ADD COLUMN due_at                      timestamptz,
    ADD COLUMN rejected_by                 text[] NOT NULL DEFAULT '{}',
    ADD COLUMN closed_at                   timestamptz,
    ADD COLUMN reopen_until                timestamptz,
    ADD COLUMN rating                      smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rating_comment              text,
    ADD COLUMN merged_into                 uuid REFERENCES complaints (id),
    ADD COLUMN merged_into_tracking_number text;

ALTER TABLE complaint_history
    ADD COLUMN from_status text,
    ADD COLUMN actor_role  text NOT NULL DEFAULT 'system',
    ADD COLUMN details     jsonb NOT NULL DEFAULT '{}';
UPDATE complaint_history SET actor_role = 'citizen' WHERE actor = 'citizen';

-- The lists staff page through: an OPD's queue, and the operators' filters, newest first.
CREATE INDEX complaints_opd_queue ON complaints (assigned_opd_id, status, submitted_at DESC)
    WHERE assigned_opd_id IS NOT NULL;
CREATE INDEX complaints_by_status ON complaints (status, submitted_at DESC);
CREATE INDEX complaints_by_submitted ON complaints (submitted_at DESC);
CREATE INDEX complaints_by_jurisdiction ON complaints (jurisdiction, submitted_at DESC);
CREATE INDEX complaints_due ON complaints (due_at) WHERE due_at IS NOT NULL;
