-- Sessions you can tell apart (issue 15): a coarse device label derived from the
-- User-Agent at login ("Firefox on Android"; phasma.sessions.devices), and when the
-- session was last used, stamped at most once per SESSION_LAST_USED_EVERY_SECONDS.
ALTER TABLE sessions ADD COLUMN device varchar(40) NOT NULL DEFAULT 'Unknown browser';
ALTER TABLE sessions ADD COLUMN last_used timestamptz;
UPDATE sessions SET last_used = created;
ALTER TABLE sessions ALTER COLUMN last_used SET DEFAULT now();
ALTER TABLE sessions ALTER COLUMN last_used SET NOT NULL;
