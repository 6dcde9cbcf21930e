ALTER TABLE posts
    DROP COLUMN blurhash,
    DROP COLUMN height,
    DROP COLUMN width;

ALTER TABLE uploads
    DROP COLUMN blurhash,
    DROP COLUMN height,
    DROP COLUMN width;
