"""The layout `./taskw up` runs: one functions-framework process per function behind the gateway."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from phasma.devstack.eventing import dispatcher_for
from phasma.devstack.gateway import Gateway, HttpUpstream, serve
from phasma.devstack.processes import FunctionProcess, start_all, stop_all
from phasma.devstack.services import DependencyUrls
from phasma.devstack.stack import prepare
from phasma.registry import event_functions, http_functions
from tests.api.conftest import SourceAddressAdapter, loopback_address
from tests.databases import database_from_template

pytestmark = pytest.mark.processes
# What `./taskw up` launches: every HTTP and event function.
LAUNCHED = (*http_functions(), *event_functions())


@pytest.fixture(scope="module")
def processes(
    dependencies: DependencyUrls, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[FunctionProcess]]]:
    # Already migrated: `prepare` finds nothing pending, as on a second `./taskw up`.
    database_url = database_from_template(
        dependencies.database_url, template_database, "phasma_process_tests"
    )
    urls = DependencyUrls(
        database_url=database_url,
        cache_url=dependencies.cache_url,
        kafka_brokers=dependencies.kafka_brokers,
        s3_endpoint=dependencies.s3_endpoint,
    )
    state_dir: Path = tmp_path_factory.mktemp("process-stack")
    lines: list[str] = []
    environment = prepare(urls, state_dir, {}, lines.append)
    running = start_all(LAUNCHED, environment, state_dir / "logs", lines.append)
    dispatcher = dispatcher_for(
        urls.kafka_brokers, event_functions(), {p.name: p.url for p in running}, lines.append
    )
    dispatcher.start()
    server = serve(Gateway({p.name: HttpUpstream(p.url) for p in running}), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", running
    server.shutdown()
    dispatcher.stop()
    stop_all(running)
    for process in running:
        assert process.process.returncode is not None


def test_every_registered_function_runs_in_its_own_process(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    _, running = processes
    assert {p.name for p in running} == {f.name for f in LAUNCHED}
    assert len({p.process.pid for p in running}) == len(running)
    for process in running:
        assert process.process.poll() is None
        assert requests.get(f"{process.url}/health", timeout=5).status_code == 204
        assert _becomes_ready(process.url), f"{process.name} never answered /ready with 204"


def _becomes_ready(url: str, within_seconds: float = 30.0) -> bool:
    """Whether `/ready` answers 204 within the time, probed once a second as Knative does.

    A process's first probe builds its clients (boto3's takes over a second of CPU) inside
    the probe's 2 s budget, which 21 processes starting at once on two cores can overrun:
    one 503 then is a slow start, not a broken function.
    """
    deadline = time.monotonic() + within_seconds
    while True:
        if requests.get(f"{url}/ready", timeout=5).status_code == 204:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


def test_register_log_in_and_read_the_account_through_the_gateway(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    base_url, _ = processes
    client = requests.Session()
    identity = {
        "name": "Process Tester",
        "username": "process_tester",
        "email": "process@example.com",
        "password": "a long password",
    }
    assert client.post(f"{base_url}/users", json=identity, timeout=10).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    response = client.post(f"{base_url}/sessions", json=login, timeout=10)
    assert response.status_code == 201
    me = client.get(f"{base_url}/users/me", timeout=10)
    assert me.status_code == 200
    assert me.json()["email"] == identity["email"]
    assert client.get(f"{base_url}/sessions", timeout=10).json()["sessions"][0]["current"]
    assert client.delete(f"{base_url}/sessions", timeout=10).status_code == 204
    assert client.get(f"{base_url}/users/me", timeout=10).status_code == 401


def test_gateway_answers_unknown_paths_and_forwards_405(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    base_url, _ = processes
    missing = requests.get(f"{base_url}/not/a/route", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    wrong_method = requests.patch(f"{base_url}/sessions", timeout=5)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "DELETE, GET, HEAD, POST"


def test_upload_then_stream_it_back_through_the_gateway(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    """gunicorn in front of `uploads` and `media`: multipart in, streamed JPEG out."""
    base_url, _ = processes
    client = requests.Session()
    identity = {
        "name": "Image Tester",
        "username": "image_tester",
        "email": "images@example.com",
        "password": "a long password",
    }
    client.post(f"{base_url}/users", json=identity, timeout=10)
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post(f"{base_url}/sessions", json=login, timeout=10).status_code == 201
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buffer, "PNG")
    files = {"image": ("red.png", buffer.getvalue(), "image/png")}
    created = client.post(f"{base_url}/uploads", files=files, timeout=30)
    assert created.status_code == 201
    filename = created.json()["filename"]
    image = requests.get(f"{base_url}/uploads/{filename}", timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert int(image.headers["Content-Length"]) == len(image.content)
    assert image.content.startswith(b"\xff\xd8\xff")
    thumbnail = requests.get(f"{base_url}/uploads/{filename}?variant=thumbnail", timeout=10)
    assert thumbnail.headers["ETag"] == f'"{filename}-thumbnail"'
    cached = requests.get(
        f"{base_url}/uploads/{filename}", headers={"If-None-Match": f'"{filename}"'}, timeout=10
    )
    assert cached.status_code == 304
    head = requests.head(f"{base_url}/uploads/{filename}", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == image.headers["Content-Length"]


def test_gateway_sends_each_server_header_once(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    base_url, _ = processes
    raw = requests.get(f"{base_url}/users/me", timeout=5).raw.headers
    assert len(raw.getlist("Date")) == 1
    assert len(raw.getlist("Server")) == 1


def test_the_notification_stream_flows_through_the_gateway_as_it_is_written(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    # The stream stays open for 25 s; its first events must not wait for it to end.
    base_url, _ = processes
    client = requests.Session()
    # A client address of its own: the other tests here spent the strict bucket of ours.
    # The gateway replaces X-Forwarded-For, so the address is the connection's source.
    client.mount("http://", SourceAddressAdapter(loopback_address()))
    identity = {
        "name": "Stream Tester",
        "username": "stream_tester",
        "email": "stream@example.com",
        "password": "a long password",
    }
    assert client.post(f"{base_url}/users", json=identity, timeout=10).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post(f"{base_url}/sessions", json=login, timeout=10).status_code == 201
    with client.get(f"{base_url}/notifications/stream", stream=True, timeout=(5, 10)) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines(chunk_size=None, decode_unicode=True)
        assert [next(lines) for _ in range(5)] == [
            "retry: 1000",
            "",
            "event: unread-count",
            'data: {"count": 0}',
            "",
        ]


def test_the_local_eventing_pings_the_scheduled_functions(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    """The dispatcher plays the PingSources: the relay and the janitor ran in their processes."""
    _, running = processes
    urls = {process.name: process.url for process in running}
    deadline = time.monotonic() + 30
    for name in ("outbox-relay", "janitor"):
        while True:
            response = requests.get(f"{urls[name]}/health/background", timeout=5)
            assert response.status_code == 200
            pipeline = next(p for p in response.json()["pipelines"] if p["name"] == name)
            if pipeline["processed"] >= 1:
                break
            assert time.monotonic() < deadline, f"{name} was never pinged: {pipeline}"
            time.sleep(0.2)
        assert pipeline["errorCount"] == 0 and not pipeline["unhealthy"]
