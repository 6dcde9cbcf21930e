"""Notifications: created and removed by `notifications-worker`, read and marked by the API."""
