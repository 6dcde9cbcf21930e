CREATE INDEX post_hashtags_hashtag_id_idx ON post_hashtags (hashtag_id);
DROP INDEX post_hashtags_hashtag_id_created_post_id_idx;
DROP TABLE hashtag_follows;
