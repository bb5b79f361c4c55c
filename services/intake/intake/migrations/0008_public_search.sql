-- The public transparency list: words searched in title and description (every word a prefix),
-- and the kecamatan of the location. The text expression must stay the one in repository.py.
CREATE INDEX complaints_text_search ON complaints
    USING gin (to_tsvector('simple', title || ' ' || description));
CREATE INDEX complaints_by_kecamatan ON complaints (lower(location->>'kecamatan'), submitted_at DESC);
CREATE INDEX complaints_public ON complaints (submitted_at DESC) WHERE NOT confidential;
