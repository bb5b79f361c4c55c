-- A delivery a dispatcher has claimed and not settled yet is in flight: it may be on its way to
-- the recipient right now. Cancelling (a rating request once the citizen rated, a receipt said
-- with the assignment) leaves such a delivery alone, so nothing sent is ever marked cancelled.
ALTER TABLE deliveries ADD COLUMN claimed_at timestamptz;
