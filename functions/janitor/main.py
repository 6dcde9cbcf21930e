"""The `janitor` event function: expired sessions and uploads, old outbox rows, follower counts."""

from phasma.events.worker import event_function

handle = event_function("janitor")
