-- Per-OPD feeds: what an OPD's view of a complaint needs besides its text (the submitted
-- category, place and privacy choices), and the OPD the feed last gave the complaint to, so a
-- reassignment, a rejection or a merge tells that OPD to stop work on it.
ALTER TABLE routed_complaints
    ADD COLUMN category     text,
    ADD COLUMN location     jsonb,
    ADD COLUMN anonymous    boolean NOT NULL DEFAULT false,
    ADD COLUMN confidential boolean NOT NULL DEFAULT false,
    ADD COLUMN with_opd     text;
