DROP INDEX notifications_actor_id_idx;
DROP INDEX comments_user_id_idx;
DROP TRIGGER audit_log_fill_public_id ON audit_log;
DROP FUNCTION audit_log_fill_public_id();
-- Rows of removed accounts cannot point at a user again.
DELETE FROM audit_log WHERE user_id IS NULL;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_user_id_fkey;
ALTER TABLE audit_log
    ADD CONSTRAINT audit_log_user_id_fkey FOREIGN KEY (user_id) REFERENCES users ON DELETE CASCADE;
ALTER TABLE audit_log ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE audit_log DROP COLUMN user_public_id;

REVOKE SELECT (deleted_at) ON users FROM phasma_indexer;
DROP INDEX users_deleted_at_idx;
ALTER TABLE users DROP COLUMN deleted_at;
