ALTER TABLE audit_log DROP COLUMN note, DROP COLUMN subject;
DROP TABLE reports;
