"""The `search-indexer` event function: keeps the Meilisearch indexes current."""

from phasma.events.worker import event_function

handle = event_function("search-indexer")
