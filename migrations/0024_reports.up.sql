-- Reports and moderation (api-2.md §D; issue 18): what members report, and what a
-- moderator decided. The roles and `users.suspended_at` came with 0023.

CREATE TABLE reports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    reporter_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    subject_type varchar(10) NOT NULL CHECK (subject_type IN ('post', 'comment', 'user')),
    -- The post's, comment's or account's public id. Not a foreign key: a removed post or
    -- comment leaves its closed reports behind, still naming what they were about.
    subject_id uuid NOT NULL,
    -- The account a `suspend` acts on: the author of the post or comment, or the account.
    author_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    reason varchar(20) NOT NULL
        CHECK (reason IN ('spam', 'harassment', 'nudity', 'violence', 'copyright', 'other')),
    note varchar(1000),
    status varchar(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created timestamptz NOT NULL DEFAULT now(),
    -- The decision that closed the report; the audit log keeps the same with the moderator.
    decision varchar(10) CHECK (decision IN ('dismiss', 'remove', 'suspend')),
    decision_note varchar(1000),
    decided timestamptz,
    moderator_id bigint REFERENCES users ON DELETE SET NULL,
    CHECK ((status = 'closed') = (decision IS NOT NULL AND decided IS NOT NULL))
);

-- "One open report per reporter and subject" is this index: a second concurrent report
-- hits it (409). It also serves the reporter's foreign key when an account is removed.
CREATE UNIQUE INDEX reports_one_open_idx
    ON reports (reporter_id, subject_type, subject_id) WHERE status = 'open';
-- The open queue, oldest first, and every open report on one subject (the group shown
-- together, and closed together by a decision).
CREATE INDEX reports_open_created_id_idx ON reports (created, id) WHERE status = 'open';
CREATE INDEX reports_open_subject_idx
    ON reports (subject_type, subject_id, created, id) WHERE status = 'open';
-- The closed list, latest decision first; the author's foreign key when an account goes.
CREATE INDEX reports_closed_decided_id_idx
    ON reports (decided DESC, id DESC) WHERE status = 'closed';
CREATE INDEX reports_author_id_idx ON reports (author_id);
CREATE INDEX reports_moderator_id_idx ON reports (moderator_id) WHERE moderator_id IS NOT NULL;

-- A moderation entry names what it acted on and the moderator's note (the moderator is
-- the row's `user_id`); other entries leave both empty.
ALTER TABLE audit_log
    ADD COLUMN subject varchar(100),
    ADD COLUMN note varchar(1000);
