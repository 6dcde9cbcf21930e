"""The dependency servers of the local stack, checked against the real servers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pg8000.native
import pytest
import redis
from botocore.config import Config
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from phasma.devstack import services
from phasma.devstack.services import (
    REINSTALL_HINT,
    Dependencies,
    DependencyError,
    DependencyUrls,
    RunningService,
)
from phasma.provisioning import create_bucket, create_topics

# What names each server in the environment; Dependencies starts the ones left unnamed.
ENV_VARS = {
    "postgres": "DATABASE_URL",
    "redis": "CACHE_URL",
    "kafka": "KAFKA_BROKERS",
    "s3": "S3_ENDPOINT",
}


@pytest.fixture
def pg_state_dir() -> Iterator[Path]:
    """A state directory for PostgreSQL outside pytest's tmp root (tests/conftest.py says why)."""
    path = Path(tempfile.mkdtemp(prefix="phasma-devstack-test-"))
    yield path
    shutil.rmtree(path)


def start_alone(name: str, state_dir: Path, *, durable: bool = True) -> Dependencies:
    """Dependencies, as `./taskw up` uses them, that start server `name` and no other."""
    environ = {var: f"{other}://elsewhere" for other, var in ENV_VARS.items() if other != name}
    started = Dependencies(state_dir, environ, lambda line: None, durable=durable)
    started.start()
    return started


def postgres_url(started: Dependencies) -> str:
    [postgres] = started.services
    return postgres.url


def connect(url: str, database: str | None = None) -> pg8000.native.Connection:
    parts = urlsplit(url)
    return pg8000.native.Connection(
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        database=database or parts.path.lstrip("/"),
    )


def accepts_connections(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


def test_postgres_answers_and_has_pg_trgm(dependencies: DependencyUrls) -> None:
    scratch = f"devstack_{uuid.uuid4().hex[:12]}"
    admin = connect(dependencies.database_url)
    try:
        assert admin.run("SELECT 1") == [[1]]
        admin.run(f"CREATE DATABASE {scratch}")
        try:
            db = connect(dependencies.database_url, scratch)
            try:
                db.run("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                [[similarity]] = db.run("SELECT similarity('café crème', 'cafe creme')")
                assert 0 < similarity < 1
            finally:
                db.close()
        finally:
            admin.run(f"DROP DATABASE {scratch} WITH (FORCE)")
    finally:
        admin.close()


def test_redis_ping_set_get(dependencies: DependencyUrls) -> None:
    client = redis.Redis.from_url(dependencies.cache_url)
    try:
        assert client.ping()
        key = f"devstack:{uuid.uuid4().hex}"
        client.set(key, b"value", ex=60)
        assert client.get(key) == b"value"
    finally:
        client.close()


def test_kafka_create_topics_is_idempotent_and_a_record_round_trips(
    dependencies: DependencyUrls,
) -> None:
    topic, other = f"devstack-{uuid.uuid4().hex}", f"devstack-{uuid.uuid4().hex}"
    first = create_topics(dependencies.kafka_brokers, {topic: 2})
    second = create_topics(dependencies.kafka_brokers, {topic: 2, other: 1})
    assert set(second) == {topic, other}
    assert second[topic] == first[topic]  # the same topic, not created again
    assert second[other] not in (None, first[topic])
    admin = KafkaAdminClient(bootstrap_servers=dependencies.kafka_brokers)
    try:
        described = {t["name"]: t for t in admin.describe_topics([topic, other])}
    finally:
        admin.close()
    assert [len(described[name]["partitions"]) for name in (topic, other)] == [2, 1]

    producer = KafkaProducer(bootstrap_servers=dependencies.kafka_brokers)
    try:
        producer.send(topic, b"hello", partition=1).get(timeout=10)
    finally:
        producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=dependencies.kafka_brokers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        consumer.assign([TopicPartition(topic, 1)])
        batches = consumer.poll(timeout_ms=10_000, max_records=1)
    finally:
        consumer.close()
    assert [record.value for batch in batches.values() for record in batch] == [b"hello"]


def test_s3_create_bucket_is_idempotent_and_an_object_round_trips(
    dependencies: DependencyUrls,
) -> None:
    bucket = f"devstack-{uuid.uuid4().hex[:12]}"
    create_bucket(dependencies.s3_endpoint, bucket, "key", "secret", "us-east-1")
    create_bucket(dependencies.s3_endpoint, bucket, "key", "secret", "us-east-1")
    client = boto3.client(
        "s3",
        endpoint_url=dependencies.s3_endpoint,
        aws_access_key_id="key",
        aws_secret_access_key="secret",
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    client.put_object(Bucket=bucket, Key="photos/a.jpg", Body=b"\xff\xd8jpeg")
    assert client.get_object(Bucket=bucket, Key="photos/a.jpg")["Body"].read() == b"\xff\xd8jpeg"


def test_a_free_port_is_never_handed_out_twice() -> None:
    # The kernel offers a released port again now and then (3 times in 300 when measured).
    ports = [services.free_port() for _ in range(300)]
    assert len(set(ports)) == 300


@pytest.mark.skipif(not Path(services._EPHEMERAL_RANGE).exists(), reason="Linux only")
def test_free_ports_lie_below_the_range_connections_take_their_source_ports_from() -> None:
    start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(20000 <= port < start for port in services._free_ports(50))


@pytest.mark.servers
def test_stop_ends_the_server_and_can_be_repeated(tmp_path: Path) -> None:
    [service] = start_alone("redis", tmp_path).services
    address = service.url.removeprefix("redis://").removesuffix("/0")
    assert service.process is not None
    assert accepts_connections(address)
    service.stop()
    assert service.process.poll() is not None
    assert not accepts_connections(address)
    service.stop()


def test_stop_escalates_to_sigkill() -> None:
    ignores_sigterm = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    ignores_sigterm += "print('ready', flush=True); time.sleep(60)"
    process = subprocess.Popen(
        [sys.executable, "-c", ignores_sigterm], stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    process.stdout.close()
    RunningService("stubborn", "", process, None, stop_timeout=0.2).stop()
    assert process.returncode == -9


def test_a_service_from_the_environment_is_not_ours_to_stop() -> None:
    RunningService("postgres", "postgresql://elsewhere/db", None, None).stop()


@pytest.mark.parametrize(
    ("resolver", "name"),
    [
        ("_postgres_bin_dir", "postgres"),
        ("_redis_server_binary", "redis"),
        ("_tansu_binary", "kafka"),
        ("_weed_binary", "s3"),
    ],
)
def test_missing_binary_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, resolver: str, name: str
) -> None:
    monkeypatch.setattr(services, resolver, lambda: tmp_path / "nowhere" / "bin")
    with pytest.raises(DependencyError) as raised:
        start_alone(name, tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: binary not found")
    assert message.endswith(REINSTALL_HINT)


def crash_safety(url: str) -> list[str]:
    """What PostgreSQL at `url` does to survive a crash of the machine ("on" for each)."""
    db = connect(url)
    try:
        return [db.run(f"SHOW {name}")[0][0] for name in CRASH_SAFETY]
    finally:
        db.close()


CRASH_SAFETY = ("fsync", "synchronous_commit", "full_page_writes")


@pytest.mark.servers
def test_a_second_postgres_start_keeps_the_data(pg_state_dir: Path) -> None:
    with start_alone("postgres", pg_state_dir) as first:
        assert crash_safety(postgres_url(first)) == ["on", "on", "on"]
        db = connect(postgres_url(first))
        db.run("CREATE TABLE kept (note text)")
        db.run("INSERT INTO kept VALUES ('still here')")
        db.close()
    with start_alone("postgres", pg_state_dir) as second:
        db = connect(postgres_url(second))
        assert db.run("SELECT note FROM kept") == [["still here"]]
        db.close()


@pytest.mark.servers
def test_a_scratch_postgres_never_waits_for_the_disk(pg_state_dir: Path) -> None:
    with start_alone("postgres", pg_state_dir, durable=False) as scratch:
        assert crash_safety(postgres_url(scratch)) == ["off", "off", "off"]


@pytest.mark.servers
def test_a_server_exiting_during_start_up_is_a_one_line_error_naming_its_log(
    pg_state_dir: Path,
) -> None:
    with start_alone("postgres", pg_state_dir), pytest.raises(DependencyError) as raised:
        start_alone("postgres", pg_state_dir)  # the same data directory is in use
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("postgres: exited with code 1")
    assert message.endswith(f"see {pg_state_dir / 'logs' / 'postgres.log'}")


def test_dependencies_start_only_what_the_environment_does_not_name(
    tmp_path: Path, dependencies: DependencyUrls
) -> None:
    environ = {
        "DATABASE_URL": dependencies.database_url,
        "KAFKA_BROKERS": dependencies.kafka_brokers,
        "S3_ENDPOINT": dependencies.s3_endpoint,
    }
    lines: list[str] = []
    with Dependencies(tmp_path, environ, lines.append) as started:
        urls = started.start()
        assert [service.name for service in started.services] == ["redis"]
        [redis_server] = started.services
        assert redis.Redis.from_url(urls.cache_url).ping()
    assert redis_server.process is not None
    assert redis_server.process.poll() is not None
    assert urls.database_url == dependencies.database_url
    assert urls.kafka_brokers == dependencies.kafka_brokers
    assert urls.s3_endpoint == dependencies.s3_endpoint
    assert lines[:3] == [
        "postgres   using DATABASE_URL",
        "kafka      using KAFKA_BROKERS",
        "s3         using S3_ENDPOINT",
    ]
    assert lines[3].startswith("redis      started on 127.0.0.1:")
    assert (tmp_path / "logs" / "redis.log").exists()


def test_a_failed_start_stops_the_servers_already_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dependencies: DependencyUrls
) -> None:
    stopped: list[RunningService] = []
    real_stop = RunningService.stop

    def recording_stop(service: RunningService) -> None:
        stopped.append(service)
        real_stop(service)

    monkeypatch.setattr(RunningService, "stop", recording_stop)
    monkeypatch.setattr(services, "_redis_server_binary", lambda: tmp_path / "no-redis-server")
    environ = {"DATABASE_URL": dependencies.database_url, "S3_ENDPOINT": dependencies.s3_endpoint}
    deps = Dependencies(tmp_path, environ, lambda line: None)
    with pytest.raises(DependencyError, match=r"^redis: binary not found"):
        deps.start()
    assert [service.name for service in stopped] == ["kafka"]
    assert all(s.process is not None and s.process.poll() is not None for s in stopped)
    assert deps.services == []
