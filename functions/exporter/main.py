"""The `exporter` event function: writes a user's data export ZIP to the bucket."""

from phasma.events.worker import event_function

handle = event_function("exporter")
