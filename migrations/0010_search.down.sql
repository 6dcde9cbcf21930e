ALTER FUNCTION similarity_op(text, text) COST 1;
CREATE INDEX posts_description_fts_idx
    ON posts USING gin (to_tsvector('simple', coalesce(description, '')));
ALTER TABLE posts DROP COLUMN search_vector;
