-- Data exports (issue 17, api-2 §C): one row per requested ZIP, its object under
-- `exports/<public id>.zip` in the bucket while `status = 'ready'`, both removed by
-- the janitor once `expires` has passed.
CREATE TABLE exports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    status varchar(10) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'ready', 'failed')),
    created timestamptz NOT NULL DEFAULT now(),
    finished timestamptz,
    -- Set when the ZIP is written: 24 h after.
    expires timestamptz,
    size_bytes bigint CHECK (size_bytes >= 0),
    CHECK ((status = 'ready') = (expires IS NOT NULL))
);
-- "One pending export at a time" is this index: a second concurrent request hits it.
CREATE UNIQUE INDEX exports_one_pending_idx ON exports (user_id) WHERE status = 'pending';
CREATE INDEX exports_user_id_created_idx ON exports (user_id, created DESC);
CREATE INDEX exports_expires_idx ON exports (expires) WHERE expires IS NOT NULL;

-- The notification telling a user their export is ready.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('like', 'comment', 'follow', 'export_ready'));
