-- A clock that started quietly (domain/clock.py): its start is told at announce_at if it still
-- runs then (the firing loop finds it by next_fire_at, which is never later), or not at all if
-- it stopped first. NULL: told already, as every clock before this was.
ALTER TABLE clocks ADD COLUMN announce_at timestamptz;
