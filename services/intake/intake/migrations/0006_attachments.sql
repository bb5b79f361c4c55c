-- Files attached to a complaint. The bytes live in the blob store, addressed by their sha256
-- (the same photo sent twice is stored once); this row says whose complaint, what it is
-- (the sniffed type, never the declared one), who added it and when.
CREATE TABLE attachments (
    id                uuid PRIMARY KEY,
    complaint_id      uuid NOT NULL REFERENCES complaints (id),
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type      text NOT NULL,
    size              bigint NOT NULL CHECK (size > 0),
    filename          text,          -- sanitised; never kept for anonymous reports, never public
    note              text,
    uploaded_by_role  text NOT NULL,
    uploaded_by       text NOT NULL, -- 'citizen' for the reporter, a staff id otherwise
    history_action    text,          -- 'submit' when it came with the complaint
    uploaded_at       timestamptz NOT NULL
);
CREATE INDEX attachments_by_complaint ON attachments (complaint_id, uploaded_at, id);
-- For sweeping orphaned blobs: which addresses are still named by a row.
CREATE INDEX attachments_by_sha256 ON attachments (sha256);
