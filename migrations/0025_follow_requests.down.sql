DELETE FROM notifications WHERE type = 'follow_request';
DROP TABLE follow_requests;
