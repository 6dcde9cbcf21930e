-- pg_trgm backs the trigram GIN indexes the PostgreSQL search fallback relies on
-- (domain.md §1.2, §6.4). gen_random_uuid() is built in since PostgreSQL 13.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
