"""Follows: follow and unfollow, follower and following lists (docs/api.md §12)."""
