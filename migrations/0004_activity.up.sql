-- The social graph, materialized feed, notifications and recent searches
-- (domain.md §1.1).

CREATE TABLE follows (
    follower_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    followee_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);

CREATE INDEX follows_followee_id_created_follower_id_idx
    ON follows (followee_id, created DESC, follower_id DESC);
CREATE INDEX follows_follower_id_created_followee_id_idx
    ON follows (follower_id, created DESC, followee_id DESC);

CREATE TABLE feed (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
    -- A copy of the post's `created`, so the feed reads in order from one index.
    created timestamptz NOT NULL,
    PRIMARY KEY (user_id, post_id)
);

CREATE INDEX feed_user_id_created_post_id_idx ON feed (user_id, created DESC, post_id DESC);
CREATE INDEX feed_post_id_idx ON feed (post_id);

CREATE TABLE notifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- The CloudEvent id of the cause: redelivered events insert nothing new.
    external_id varchar(255) NOT NULL UNIQUE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    type varchar(20) NOT NULL CHECK (type IN ('like', 'comment', 'follow')),
    entity_id varchar(255) NOT NULL,
    read boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, actor_id, type, entity_id)
);

CREATE INDEX notifications_user_id_created_id_idx
    ON notifications (user_id, created DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE NOT read;
CREATE INDEX notifications_type_entity_id_idx ON notifications (type, entity_id);

CREATE TABLE recent_searches (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    entity_type varchar(10) NOT NULL CHECK (entity_type IN ('users', 'hashtags', 'posts')),
    -- A username, hashtag name or raw query; deliberately not a foreign key.
    reference varchar(50) NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, entity_type, reference)
);

CREATE INDEX recent_searches_user_id_created_id_idx
    ON recent_searches (user_id, created DESC, id DESC);
