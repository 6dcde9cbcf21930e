-- Password-reset requests are capped per account like verification resends (api-2 §B:
-- anyone who knows an address can make it receive reset mail), so the table that counts
-- resends counts both, each purpose against its own hourly cap. The name stays: other
-- code knows it, and a rename buys nothing but churn.
ALTER TABLE verification_requests ADD COLUMN purpose text NOT NULL DEFAULT 'verify'
    CHECK (purpose IN ('verify', 'reset'));
ALTER TABLE verification_requests ALTER COLUMN purpose DROP DEFAULT;
DROP INDEX verification_requests_user_idx;
CREATE INDEX verification_requests_user_idx ON verification_requests (user_id, purpose, created);
