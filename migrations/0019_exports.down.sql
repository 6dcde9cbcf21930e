DELETE FROM notifications WHERE type = 'export_ready';
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_type_check;
-- 'mention' stays allowed: the migration that added it owns it, and may be applied.
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('like', 'comment', 'follow', 'mention'));
DROP TABLE exports;
