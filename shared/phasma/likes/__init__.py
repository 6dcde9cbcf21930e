"""Likes: idempotent like and unlike, and the posts a user liked."""
