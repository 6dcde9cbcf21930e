-- Hashtags as places (api-2.md §F, issue 19): following a tag, and the tag's posts in order.

CREATE TABLE hashtag_follows (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    hashtag_id bigint NOT NULL REFERENCES hashtags ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    -- Also the probe behind `following` on GET /hashtags/{name}.
    PRIMARY KEY (user_id, hashtag_id)
);

-- GET /feed merges the viewer's most recently followed tags, read in this order.
CREATE INDEX hashtag_follows_user_id_created_hashtag_id_idx
    ON hashtag_follows (user_id, created DESC, hashtag_id DESC);

-- A link's `created` is from now on its post's `created` (posts' code writes it so), so
-- a tag's posts are one index range in (created DESC, post_id DESC) order: the tag's
-- page and the feed's tag branch read the newest of a 100,000-post tag without
-- touching the rest. Links made at post creation already share the post's transaction
-- time; a tag added by an edit (0014) was stamped with the edit's time.
UPDATE post_hashtags ph SET created = p.created
FROM posts p
WHERE p.id = ph.post_id AND ph.created <> p.created;

CREATE INDEX post_hashtags_hashtag_id_created_post_id_idx
    ON post_hashtags (hashtag_id, created DESC, post_id DESC);
-- Its leading column serves the hashtag cascade the old index served.
DROP INDEX post_hashtags_hashtag_id_idx;
