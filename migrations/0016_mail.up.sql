-- Mail, email verification and password reset (issue 17, api-2 §B).

-- NULL until the current address is verified; an email change sets it back to NULL.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- Single-use tokens the mailer mints: only their HMAC is stored, never the token, so a
-- stolen database dump holds no usable link. `email` is the address the link was sent
-- to: a verification token verifies that address only, never one set after it.
CREATE TABLE mail_tokens (
    token_hmac text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email text NOT NULL,
    expires timestamptz NOT NULL,
    used timestamptz,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_tokens_user_idx ON mail_tokens (user_id, purpose);
CREATE INDEX mail_tokens_expires_idx ON mail_tokens (expires);

-- The events the mailer has sent, keyed by CloudEvent id: a redelivery never mails twice.
CREATE TABLE mail_deliveries (
    event_id text PRIMARY KEY,
    sent timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_deliveries_sent_idx ON mail_deliveries (sent);

-- Resend requests of `POST /users/me/verification`, counted per hour (at most 3).
CREATE TABLE verification_requests (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verification_requests_user_idx ON verification_requests (user_id, created);
