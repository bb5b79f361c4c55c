-- A new complaint reads the signatures of up to `duplicate_max_compared` earlier ones. As
-- bigint[], each of a signature's 128 values was sent and decoded on its own (about 0.5 ms of
-- routing's CPU and as much of the server's for 100 signatures); packed as 128 big-endian
-- unsigned 32-bit values in a bytea (512 bytes; domain.duplicates.Fingerprint) it is one copy.
-- `signature` stays, no longer required, so a replica of the previous version still running
-- during an upgrade can keep complaints; what it keeps is packed on reading
-- (adapters.duplicates._SIGNATURE_ROW). Its rows leave with the retention window; a later
-- migration can drop the column.
ALTER TABLE duplicate_signatures ADD COLUMN packed bytea,
    ALTER COLUMN signature DROP NOT NULL;

UPDATE duplicate_signatures SET packed = (
    SELECT string_agg(substring(int8send(v) FROM 5 FOR 4), ''::bytea ORDER BY n)
    FROM unnest(signature) WITH ORDINALITY AS u(v, n))
WHERE packed IS NULL;
