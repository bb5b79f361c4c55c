-- Idempotency keys are kept as a digest of the client's key, without the access token (a replay
-- derives the same token again, see intake.domain.tokens), and only for the retry window.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys DROP COLUMN token_sealed;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
