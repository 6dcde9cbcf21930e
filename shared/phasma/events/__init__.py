"""Events: the public catalogue, and the outbox rows written with each change."""
