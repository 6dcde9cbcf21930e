"""Sessions: log in, list, revoke, log out, and resolving the cookie on every request."""
