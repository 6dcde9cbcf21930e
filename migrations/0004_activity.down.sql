DROP TABLE recent_searches;
DROP TABLE notifications;
DROP TABLE feed;
DROP TABLE follows;
