-- Restores the table-wide grants of 0006_roles.up.sql.

GRANT SELECT, UPDATE, DELETE ON audit_log TO phasma_app;

REVOKE SELECT (id, public_id, user_id, description, filename, created) ON posts
    FROM phasma_indexer;
REVOKE SELECT (id, public_id, username, name, avatar) ON users FROM phasma_indexer;
GRANT SELECT ON users, posts TO phasma_indexer;
