-- The newest complaints of one band key first: a new complaint reads at most a bounded number
-- of rows per key, however many copies of one text arrived (routing/adapters/duplicates.py).
CREATE INDEX duplicate_bands_newest
    ON duplicate_bands (jurisdiction, band_key, submitted_at DESC, complaint_id);
