"""Reading a `text/event-stream` response in tests, one event at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from tests.api.conftest import Api


@dataclass
class Event:
    """One Server-Sent Event: its fields, or the text of a comment line."""

    event: str | None = None
    data: str | None = None
    id: str | None = None
    retry: str | None = None
    comment: str | None = None

    @property
    def json(self) -> Any:
        assert self.data is not None
        return json.loads(self.data)


class EventReader:
    """Reads a `text/event-stream` response one event (or comment) at a time."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self._lines = response.iter_lines(chunk_size=None, decode_unicode=True)

    def next(self) -> Event:
        event = Event()
        for line in self._lines:
            if line == "":
                return event
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                event.comment = value
            elif name in ("event", "data", "id", "retry"):
                setattr(event, name, value)
        raise EOFError("the stream ended")

    def next_of(self, kind: str) -> Event:
        """The next event named `kind`, skipping heartbeats and other events."""
        while True:
            event = self.next()
            if event.event == kind:
                return event


def open_stream(client: Api, **headers: str) -> EventReader:
    response = client.http.get(
        client.base_url + "/notifications/stream", stream=True, timeout=(5, 10), headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-store"
    return EventReader(response)
