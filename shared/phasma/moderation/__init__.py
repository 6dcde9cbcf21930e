"""Reports and moderation (docs/api.md §D): members report, moderators decide."""
