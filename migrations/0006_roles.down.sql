-- Withdraws everything 0006_roles.up.sql granted in this database but keeps the
-- roles themselves: they are global to the server and may serve other databases
-- (and login users may still be members), so dropping them is an operator's call.

REVOKE SELECT ON outbox, users, posts, hashtags, post_hashtags FROM phasma_indexer;

ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE USAGE, SELECT ON SEQUENCES FROM phasma_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM phasma_app;
REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM phasma_app;
REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM phasma_app;

REVOKE USAGE ON SCHEMA public FROM phasma_app, phasma_indexer;

DO $$
BEGIN
    EXECUTE format(
        'REVOKE CONNECT ON DATABASE %I FROM phasma_app, phasma_indexer', current_database()
    );
END
$$;
