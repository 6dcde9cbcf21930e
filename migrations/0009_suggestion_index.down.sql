DROP INDEX users_suggestion_idx;
