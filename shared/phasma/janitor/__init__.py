"""The scheduled janitor: expired sessions and uploads, old outbox rows, follower counts."""
