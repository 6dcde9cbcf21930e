DROP TABLE comments;
DROP TABLE post_hashtags;
DROP TABLE hashtags;
DROP TABLE likes;
DROP TABLE posts;
DROP TABLE uploads;
