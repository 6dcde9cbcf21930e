-- Privilege isolation (domain.md §1.3, security.md §12). Login users are created
-- by the migrate Job and granted membership in one of these NOLOGIN roles.

-- Roles are global to the server, so another database may have created them
-- already; a concurrent creation elsewhere surfaces as duplicate_object.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'phasma_app') THEN
        CREATE ROLE phasma_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'phasma_indexer') THEN
        CREATE ROLE phasma_indexer NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL;
END
$$;

-- The database name differs per environment, hence the dynamic statement.
DO $$
BEGIN
    EXECUTE format(
        'GRANT CONNECT ON DATABASE %I TO phasma_app, phasma_indexer', current_database()
    );
END
$$;

GRANT USAGE ON SCHEMA public TO phasma_app, phasma_indexer;

-- Functions: plain DML on every table and sequence, no DDL.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO phasma_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO phasma_app;
-- Default privileges apply to objects later created by the role running the
-- migrations (the owner), so future tables need no extra grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO phasma_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO phasma_app;
-- The runner's ledger (created before any migration runs) is the owner's alone.
REVOKE ALL ON TABLE schema_migrations FROM phasma_app;

-- The search indexer: read-only, and only what it indexes.
GRANT SELECT ON outbox, users, posts, hashtags, post_hashtags TO phasma_indexer;
