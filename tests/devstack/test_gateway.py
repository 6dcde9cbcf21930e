"""The local gateways of docs/api.md §A.1: the API origin replaces X-Forwarded-For and -Proto; the
frontend's internal way in keeps what the frontend wrote."""

from __future__ import annotations

import json
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.test import Client

from phasma.devstack.gateway import Gateway


def echo(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A function that answers with the forwarded headers it received."""
    seen = {
        "for": environ.get("HTTP_X_FORWARDED_FOR"),
        "proto": environ.get("HTTP_X_FORWARDED_PROTO"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def test_the_gateway_replaces_what_the_client_claims_with_the_peer_it_saw() -> None:
    client = Client(Gateway({"users": echo}))
    for claimed in ("198.51.100.7", "198.51.100.7, 203.0.113.9", "not-an-address"):
        response = client.post(
            "/users",
            headers={"X-Forwarded-For": claimed, "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": "192.0.2.44"},
        )
        assert json.loads(response.get_data()) == {"for": "192.0.2.44", "proto": "http"}


def test_without_a_claim_the_gateway_still_names_the_peer() -> None:
    client = Client(Gateway({"users": echo}))
    response = client.post("/users", environ_base={"REMOTE_ADDR": "192.0.2.45"})
    assert json.loads(response.get_data()) == {"for": "192.0.2.45", "proto": "http"}


def test_the_frontends_internal_gateway_keeps_the_browser_address_the_site_wrote() -> None:
    # The frontend replaced the browser's claim with the browser's own address; the
    # internal way in (the cluster-local ingress in Knative) must not overwrite it
    # with the frontend's, or every person on the site would share one bucket.
    client = Client(Gateway({"users": echo}, internal=True))
    response = client.post(
        "/users",
        headers={"X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert json.loads(response.get_data())["for"] == "198.51.100.7"
