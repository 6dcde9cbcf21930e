DELETE FROM verification_requests WHERE purpose <> 'verify';
DROP INDEX verification_requests_user_idx;
ALTER TABLE verification_requests DROP COLUMN purpose;
CREATE INDEX verification_requests_user_idx ON verification_requests (user_id, created);
