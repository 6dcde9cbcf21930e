ALTER TABLE posts DROP COLUMN alt_text;
