"""The home feed: fan-out on write by `feed-worker`, the hybrid read of `GET /feed`."""
