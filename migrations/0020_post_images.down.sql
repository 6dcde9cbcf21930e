DROP TABLE post_images;
