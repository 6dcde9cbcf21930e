"""The layout `./taskw up` runs: one functions-framework process per function behind the gateway."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from phasma.db.connect import connect
from phasma.devstack.gateway import Gateway, HttpUpstream, serve
from phasma.devstack.processes import FunctionProcess, start_all
from phasma.devstack.services import DependencyUrls
from phasma.devstack.stack import prepare
from phasma.registry import http_functions

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def processes(
    dependencies: DependencyUrls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[FunctionProcess]]]:
    admin = connect(dependencies.database_url)
    admin.run("DROP DATABASE IF EXISTS phasma_process_tests WITH (FORCE)")
    admin.run("CREATE DATABASE phasma_process_tests")
    admin.close()
    database_url = dependencies.database_url.rsplit("/", 1)[0] + "/phasma_process_tests"
    urls = DependencyUrls(
        database_url=database_url,
        cache_url=dependencies.cache_url,
        kafka_brokers=dependencies.kafka_brokers,
        s3_endpoint=dependencies.s3_endpoint,
    )
    state_dir: Path = tmp_path_factory.mktemp("process-stack")
    lines: list[str] = []
    environment = prepare(urls, state_dir, {}, lines.append)
    running = start_all(http_functions(), environment, state_dir / "logs", lines.append)
    server = serve(Gateway({p.name: HttpUpstream(p.url) for p in running}), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", running
    server.shutdown()
    for process in running:
        process.stop()
        assert process.process.returncode is not None


def test_every_registered_function_runs_in_its_own_process(
    processes: tuple[str, list[FunctionProcess]],
) -> None:
    _, running = processes
    assert {p.name for p in running} == {f.name for f in http_functions()}
    assert len({p.process.pid for p in running}) == len(running)
    for process in running:
        assert process.process.poll() is None
        assert requests.get(f"{process.url}/health", timeout=5).status_code == 204
        assert requests.get(f"{process.url}/ready", timeout=5).status_code == 204


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
