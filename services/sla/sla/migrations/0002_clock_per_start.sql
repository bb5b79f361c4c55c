-- A clock per start, not one per kind: a complaint moved to another OPD gives that OPD its own
-- first-response clock, and each closing gets its own reopen window. A start is named by the
-- instant of the fact that caused it (`started_at`), so a replayed fact, even one the inbox has
-- forgotten, starts nothing twice. Starting a clock supersedes the complaint's earlier running
-- clock of the same kind (state 'superseded'): only the newest one can warn or breach.
ALTER TABLE clocks DROP CONSTRAINT clocks_pkey;
ALTER TABLE clocks ADD PRIMARY KEY (complaint_id, clock, started_at);
