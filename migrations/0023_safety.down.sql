DELETE FROM notifications
WHERE type IN ('follow_request', 'content_removed', 'report_reviewed');
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('like', 'comment', 'follow', 'export_ready', 'mention'));
DROP TABLE mutes;
DROP TABLE blocks;
REVOKE SELECT (suspended_at, private) ON users FROM phasma_indexer;
ALTER TABLE users DROP COLUMN suspended_at, DROP COLUMN role, DROP COLUMN private;
