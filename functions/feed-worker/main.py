"""The `feed-worker` event function: fan-out on write, follow backfill, unfollow prune."""

from phasma.events.worker import event_function

handle = event_function("feed-worker")
