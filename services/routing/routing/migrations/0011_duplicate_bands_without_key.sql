-- A complaint's band rows are written once, by the statement that keeps its signature (a replay
-- keeps nothing, so it writes no bands), and its 32 keys are distinct (each hashes its band's
-- number): the primary key never refused a row. It was a third of the index entries each new
-- complaint writes, at random places (the keys are hashes), so a third of the pages dirtied and
-- logged. duplicate_bands_near (0009) serves every read by key; duplicate_bands_by_time the purge.
ALTER TABLE duplicate_bands DROP CONSTRAINT duplicate_bands_pkey;
