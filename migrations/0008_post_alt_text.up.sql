-- Alternative text for a post's image (issue 6, accessibility beyond the baseline):
-- written by the author at upload, used as the image's `alt`; NULL when none was given.
ALTER TABLE posts ADD COLUMN alt_text varchar(1000);
