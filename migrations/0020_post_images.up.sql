-- Albums (api-2.md §F, issue 19): a post shows 1 to 10 images in order. The first
-- image stays on `posts` (filename, width, height, blurhash, renditions, alt_text);
-- this table holds only the images after it, positions 1 to 9. Each fact is stored
-- once: moving the first image here would leave `posts.filename` as a copy that
-- avatars, search documents, the renditions backfill and the indexer's column
-- grants (0011) all read, or would make each of them join this table instead.
-- `phasma_indexer` gets no grant: search documents show only the first image.

CREATE TABLE post_images (
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
    position smallint NOT NULL CHECK (position BETWEEN 1 AND 9),
    filename varchar(32) NOT NULL UNIQUE CHECK (filename ~ '^[0-9a-f]{32}$'),
    width int CHECK (width > 0),
    height int CHECK (height > 0),
    blurhash varchar(64),
    alt_text varchar(1000),
    renditions int[] CHECK (0 < ALL (renditions)),
    PRIMARY KEY (post_id, position)
);
