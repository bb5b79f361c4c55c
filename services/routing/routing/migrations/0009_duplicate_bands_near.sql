-- What the duplicate rule needs besides the text, on each band row: a new complaint's lookup
-- drops earlier ones of another main category, outside the box around its place, or of another
-- kecamatan in the index scan itself, before any signature is read (routing/adapters/duplicates.py,
-- domain.duplicates.Vicinity). Copied from duplicate_signatures, which stays the one that is read.
ALTER TABLE duplicate_bands
    ADD COLUMN category  text,
    ADD COLUMN lat       double precision,
    ADD COLUMN lon       double precision,
    ADD COLUMN kecamatan text;

UPDATE duplicate_bands b
   SET category = s.category, lat = s.lat, lon = s.lon, kecamatan = s.kecamatan
  FROM duplicate_signatures s
 WHERE s.complaint_id = b.complaint_id;

-- The newest rows of one band key first, with the filter's columns included: the scan reads at
-- most `limit` index entries per key and filters them without visiting the table.
DROP INDEX duplicate_bands_newest;
CREATE INDEX duplicate_bands_near
    ON duplicate_bands (jurisdiction, band_key, submitted_at DESC, complaint_id)
    INCLUDE (category, lat, lon, kecamatan);
