"""Posts: create and delete with their hashtags, single posts, profile grids, popular posts."""
