"""The `notifications-worker` event function: creates and deletes notifications."""

from phasma.events.worker import event_function

handle = event_function("notifications-worker")
