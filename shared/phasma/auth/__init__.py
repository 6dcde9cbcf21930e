"""Authentication: password hashing, session tokens and the login throttle."""
