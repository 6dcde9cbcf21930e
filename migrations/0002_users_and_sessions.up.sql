-- Accounts and their login sessions (domain.md §1.1).

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    name varchar(255) NOT NULL,
    -- In PostgreSQL regular expressions `$` matches only at the very end of the
    -- string, so this is a whole-string match (no trailing newline slips through).
    username varchar(30) NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._]{3,30}$'),
    email varchar(255) NOT NULL UNIQUE,
    password_hash varchar(255) NOT NULL,
    avatar varchar(32) CHECK (avatar ~ '^[0-9a-f]{32}$'),
    bio varchar(300),
    follower_count int NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    post_count int NOT NULL DEFAULT 0 CHECK (post_count >= 0),
    is_celebrity boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX users_username_trgm_idx ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_celebrity_idx ON users (id) WHERE is_celebrity;
CREATE INDEX users_avatar_idx ON users (avatar) WHERE avatar IS NOT NULL;

CREATE TABLE sessions (
    -- Hex HMAC-SHA256 of the raw token; the raw token is never stored.
    id varchar(64) PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user_id_created_idx ON sessions (user_id, created DESC);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
