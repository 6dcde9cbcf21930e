DROP INDEX posts_renditions_missing_idx;

ALTER TABLE posts DROP COLUMN renditions;

ALTER TABLE uploads DROP COLUMN renditions;
