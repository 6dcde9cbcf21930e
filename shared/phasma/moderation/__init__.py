"""Reports and moderation (api-2.md §D): members report, moderators decide."""
