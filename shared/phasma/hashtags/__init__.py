"""Hashtags as places: a tag's page, its newest posts, and following it into the feed."""
