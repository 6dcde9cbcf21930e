-- Account removal (api-2 §C, DELETE /users/me). `deleted_at` marks an account whose
-- removal was requested: every read treats it as gone at once, and the account-remover
-- (or the janitor's sweep, for any it left unfinished) removes its rows batch by batch,
-- then the user row itself, which frees the username and email.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;

-- The janitor's sweep finds unfinished removals without reading every user.
CREATE INDEX users_deleted_at_idx ON users (deleted_at) WHERE deleted_at IS NOT NULL;

-- The search indexer re-reads users by key and must see which are gone.
GRANT SELECT (deleted_at) ON users TO phasma_indexer;

-- The audit log outlives the account (docs/operations.md): the row keeps the account's
-- public id and the time; the internal key becomes NULL when the user row goes,
-- instead of the rows cascading away with it.
ALTER TABLE audit_log ADD COLUMN user_public_id uuid;
UPDATE audit_log SET user_public_id = users.public_id FROM users WHERE users.id = audit_log.user_id;
ALTER TABLE audit_log ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_user_id_fkey;
ALTER TABLE audit_log
    ADD CONSTRAINT audit_log_user_id_fkey FOREIGN KEY (user_id) REFERENCES users ON DELETE SET NULL;

-- Writers name the account by its internal key only; the public id is filled in here so
-- no INSERT can forget it (the app role may only INSERT into audit_log).
CREATE FUNCTION audit_log_fill_public_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_public_id IS NULL THEN
        NEW.user_public_id := (SELECT public_id FROM users WHERE id = NEW.user_id);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_fill_public_id BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_fill_public_id();

-- The remover deletes a user's comments and the notifications they caused by these keys;
-- without the indexes each batch (and the final cascade) would read the whole table.
CREATE INDEX comments_user_id_idx ON comments (user_id);
CREATE INDEX notifications_actor_id_idx ON notifications (actor_id);
