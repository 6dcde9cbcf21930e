"""The `outbox-relay` event function: publishes the outbox rows the writing functions did not."""

from phasma.events.worker import event_function

handle = event_function("outbox-relay")
