-- Uploads, posts and what hangs off them: likes, hashtags, comments (domain.md §1.1).

CREATE TABLE uploads (
    filename varchar(32) PRIMARY KEY CHECK (filename ~ '^[0-9a-f]{32}$'),
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX uploads_user_id_created_idx ON uploads (user_id, created);
CREATE INDEX uploads_created_idx ON uploads (created);

CREATE TABLE posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    filename varchar(32) NOT NULL UNIQUE CHECK (filename ~ '^[0-9a-f]{32}$'),
    description varchar(1000),
    like_count int NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count int NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    created timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX posts_created_id_idx ON posts (created DESC, id DESC);
CREATE INDEX posts_user_id_created_id_idx ON posts (user_id, created DESC, id DESC);
-- Queries must repeat this exact expression for the planner to use the index.
CREATE INDEX posts_description_fts_idx
    ON posts USING gin (to_tsvector('simple', coalesce(description, '')));

CREATE TABLE likes (
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);

CREATE INDEX likes_user_id_created_post_id_idx ON likes (user_id, created DESC, post_id DESC);

CREATE TABLE hashtags (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(50) NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_]{1,50}$'),
    post_count int NOT NULL DEFAULT 0 CHECK (post_count >= 0),
    created timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX hashtags_name_trgm_idx ON hashtags USING gin (name gin_trgm_ops);

CREATE TABLE post_hashtags (
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
    hashtag_id bigint NOT NULL REFERENCES hashtags ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, hashtag_id)
);

CREATE INDEX post_hashtags_hashtag_id_idx ON post_hashtags (hashtag_id);

CREATE TABLE comments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    body varchar(400) NOT NULL CHECK (char_length(body) > 0),
    created timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX comments_post_id_created_id_idx ON comments (post_id, created DESC, id DESC);
