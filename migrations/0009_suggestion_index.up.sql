-- GET /users/suggested walks candidates in this exact order and stops after five;
-- without the index it sorted every candidate (14.8 ms at 100,000 users, 0.26 ms with it).
CREATE INDEX users_suggestion_idx
    ON users (follower_count DESC, post_count DESC, username COLLATE "C")
    WHERE follower_count > 0 OR post_count > 0;
