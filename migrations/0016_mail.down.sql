DROP TABLE verification_requests;
DROP TABLE mail_deliveries;
DROP TABLE mail_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
