-- Safety and audience (api-2.md §D, §E; issue 18): the columns and tables the one
-- visibility rule in `phasma.users.queries` reads. Reports and follow requests come in
-- the migrations that follow, beside the code that writes them.

ALTER TABLE users
    ADD COLUMN private boolean NOT NULL DEFAULT false,
    ADD COLUMN role varchar(10) NOT NULL DEFAULT 'member'
        CHECK (role IN ('member', 'moderator', 'admin')),
    -- Set by a moderator's `suspend`, cleared by `reinstate`: the account is hidden and
    -- cannot log in meanwhile, but nothing of it is deleted.
    ADD COLUMN suspended_at timestamptz;

-- The search-indexer leaves suspended accounts (and their posts) out, and marks private
-- accounts' posts, exactly as the API's rule does.
GRANT SELECT (suspended_at, private) ON users TO phasma_indexer;

-- Either direction hides each account from the other: the rule probes both keys.
CREATE TABLE blocks (
    blocker_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    blocked_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
-- "Has this author blocked the viewer?" and the account-remover's cascade.
CREATE INDEX blocks_blocked_id_blocker_id_idx ON blocks (blocked_id, blocker_id);
-- GET /users/me/blocks, newest first.
CREATE INDEX blocks_blocker_id_created_blocked_id_idx
    ON blocks (blocker_id, created DESC, blocked_id DESC);

CREATE TABLE mutes (
    muter_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    muted_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (muter_id, muted_id),
    CHECK (muter_id <> muted_id)
);
CREATE INDEX mutes_muted_id_idx ON mutes (muted_id);
CREATE INDEX mutes_muter_id_created_muted_id_idx
    ON mutes (muter_id, created DESC, muted_id DESC);

ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN (
        'like', 'comment', 'follow', 'export_ready', 'mention',
        'follow_request', 'content_removed', 'report_reviewed'
    ));
