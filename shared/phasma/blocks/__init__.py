"""Blocks and mutes: the write side and the caller's own lists (api-2.md §D)."""
