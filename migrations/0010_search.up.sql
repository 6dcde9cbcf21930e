-- PostgreSQL search (domain.md §6.4).

-- Ranking reads the text vector of each candidate post; recomputing it per row made a
-- common word cost ~100x more, so it is stored once per write. The GIN index over the
-- stored vector replaces the expression index of 0003 (the same expression).
ALTER TABLE posts ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(description, ''))) STORED;
CREATE INDEX posts_search_vector_idx ON posts USING gin (search_vector);
DROP INDEX posts_description_fts_idx;

-- pg_trgm declares its similarity operator (`%`) as cheap as `=` (COST 1), while one
-- call takes a few microseconds. With that estimate the planner preferred running it on
-- every row of `users` (~25 ms for 10,000 names) over reading the trigram index (~1 ms).
-- The extension belongs to the migrations' owner, which may correct the estimate.
ALTER FUNCTION similarity_op(text, text) COST 50;
