-- The transactional outbox for CloudEvents and the append-only audit log
-- (domain.md §1.1, §5).

CREATE TABLE outbox (
    -- Becomes the CloudEvent `id`; `created` becomes its `time`.
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic varchar(50) NOT NULL CHECK (topic IN ('entity-changes', 'activity')),
    type varchar(100) NOT NULL,
    source varchar(100) NOT NULL,
    subject varchar(255) NOT NULL,
    partition_key varchar(255) NOT NULL,
    payload jsonb NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    -- Set only after the broker acknowledged the event.
    published_at timestamptz
);

CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_created_idx ON outbox (created);

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    action varchar(50) NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_log_user_id_idx ON audit_log (user_id);
