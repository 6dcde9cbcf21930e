-- Image metadata beyond the baseline (issue 3): pixel dimensions and a blurhash placeholder,
-- recorded when an upload is processed and carried into the post that consumes it, so pages
-- can reserve space and paint a placeholder before the bytes arrive. NULL for rows written
-- before this migration.

ALTER TABLE uploads
    ADD COLUMN width int CONSTRAINT uploads_width_check CHECK (width > 0),
    ADD COLUMN height int CONSTRAINT uploads_height_check CHECK (height > 0),
    ADD COLUMN blurhash varchar(64);

ALTER TABLE posts
    ADD COLUMN width int CONSTRAINT posts_width_check CHECK (width > 0),
    ADD COLUMN height int CONSTRAINT posts_height_check CHECK (height > 0),
    ADD COLUMN blurhash varchar(64);
