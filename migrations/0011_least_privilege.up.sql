-- Least privilege inside the database (issue 14, api-2 §A; security.md §12).

-- The search indexer reads users and posts only for their search documents, so it
-- gets those columns and no more: never password_hash, email, or what a post's
-- owner alone may see. Column grants replace the table-wide SELECT of 0006; a
-- new column stays unreadable until a migration names it here.
REVOKE SELECT ON users, posts FROM phasma_indexer;
GRANT SELECT (id, public_id, username, name, avatar) ON users TO phasma_indexer;
GRANT SELECT (id, public_id, user_id, description, filename, created) ON posts TO phasma_indexer;

-- The audit log is append-only for the functions: a stolen app login can add rows
-- but cannot rewrite or erase the history of what it did. Rows of a deleted user
-- still go with the user (the foreign key's cascade runs as the table owner).
REVOKE SELECT, UPDATE, DELETE, TRUNCATE ON audit_log FROM phasma_app;
GRANT INSERT ON audit_log TO phasma_app;
