"""Bookmarks: idempotent save and unsave of posts, and the saved list only its owner reads."""
