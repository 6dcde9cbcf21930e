ALTER TABLE sessions DROP COLUMN last_used;
ALTER TABLE sessions DROP COLUMN device;
