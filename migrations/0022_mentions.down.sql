DELETE FROM notifications WHERE type = 'mention';
DROP INDEX notifications_comment_id_idx;
DROP INDEX notifications_post_id_idx;
ALTER TABLE notifications DROP COLUMN comment_id, DROP COLUMN post_id;
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('like', 'comment', 'follow', 'export_ready'));
