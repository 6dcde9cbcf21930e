-- Responsive renditions (issue 15): the widths in pixels of the renditions stored for an
-- upload, ascending (`renditions/<width>/<filename>` in the bucket), recorded at upload
-- and carried into the post that consumes it. An empty array: the image is no wider than
-- the smallest rendition, so the original serves every slot. NULL: stored before this
-- migration, so unknown until `./taskw media:backfill-renditions` has processed the post.

ALTER TABLE uploads
    ADD COLUMN renditions int[] CONSTRAINT uploads_renditions_check CHECK (0 < ALL (renditions));

ALTER TABLE posts
    ADD COLUMN renditions int[] CONSTRAINT posts_renditions_check CHECK (0 < ALL (renditions));

-- The backfill walks what is left in id order; the index shrinks to nothing once it is done.
CREATE INDEX posts_renditions_missing_idx ON posts (id) WHERE renditions IS NULL;
