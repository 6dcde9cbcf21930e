-- Saved posts (api-2.md §F, issue 19): private to the user who saved them.

CREATE TABLE bookmarks (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    -- Also the probe behind a Post's `bookmarked` (viewer, post).
    PRIMARY KEY (user_id, post_id)
);

-- GET /users/me/bookmarks reads in this order, newest bookmark first.
CREATE INDEX bookmarks_user_id_created_post_id_idx
    ON bookmarks (user_id, created DESC, post_id DESC);
-- Deleting a post cascades here; without it each deletion scans the table.
CREATE INDEX bookmarks_post_id_idx ON bookmarks (post_id);
