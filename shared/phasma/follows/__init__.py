"""Follows: follow and unfollow, follower and following lists (api.md §12)."""
