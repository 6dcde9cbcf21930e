"""Data exports (api-2 §C): request, status and download, and the `exporter` worker."""
