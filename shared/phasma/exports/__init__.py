"""Data exports (docs/api.md §C): request, status and download, and the `exporter` worker."""
