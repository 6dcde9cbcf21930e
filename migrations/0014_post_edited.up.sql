-- When the author last edited the post's description or alt text (api-2.md §C);
-- NULL for a post never edited. The search indexer's documents do not carry it, so
-- `phasma_indexer` gets no grant on it (0011).
ALTER TABLE posts ADD COLUMN edited timestamptz;
