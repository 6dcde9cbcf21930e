-- Private accounts (api-2.md §E; issue 18): a follow of a private account is a request
-- until its owner accepts it. A pending request is not a follow: the visibility rule
-- (`phasma.users.queries.shows_posts`) reads `follows` only.
CREATE TABLE follow_requests (
    requester_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    target_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now(),
    -- One pending request per pair; also "has the viewer asked?" (`followRequested`).
    PRIMARY KEY (requester_id, target_id),
    CONSTRAINT follow_requests_not_self CHECK (requester_id <> target_id)
);

-- GET /users/me/follow-requests, newest first; accepting them all when the account
-- turns public; and the cascade from the target's side.
CREATE INDEX follow_requests_target_id_created_requester_id_idx
    ON follow_requests (target_id, created DESC, requester_id DESC);
