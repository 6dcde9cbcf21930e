-- Mentions (api-2.md §F): a `mention` notification type, and the post and comment a
-- notification is about, so the list can link to the post, show its thumbnail and
-- quote the comment without parsing `entity_id`.

ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('like', 'comment', 'follow', 'export_ready', 'mention'));

-- SET NULL, not CASCADE: the notifications-worker removes the rows of a deleted post
-- or comment from its event (docs/events.md); until then the row just loses its link.
ALTER TABLE notifications
    ADD COLUMN post_id bigint REFERENCES posts ON DELETE SET NULL,
    ADD COLUMN comment_id bigint REFERENCES comments ON DELETE SET NULL;

-- Deleting a post or comment finds its notifications through these.
CREATE INDEX notifications_post_id_idx ON notifications (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX notifications_comment_id_idx
    ON notifications (comment_id) WHERE comment_id IS NOT NULL;

-- Existing rows: a like's entity is its post, a comment's is the comment.
UPDATE notifications n SET post_id = p.id
FROM posts p
WHERE n.type = 'like' AND p.public_id = CAST(n.entity_id AS uuid);
UPDATE notifications n SET post_id = c.post_id, comment_id = c.id
FROM comments c
WHERE n.type = 'comment' AND c.public_id = CAST(n.entity_id AS uuid);
