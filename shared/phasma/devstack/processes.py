"""Every registered HTTP function in its own functions-framework process, as Knative runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from phasma.devstack.services import DependencyError, free_port, spawn
from phasma.registry import Function, get_function

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
_STARTUP_TIMEOUT_SECONDS = 30.0
_STOP_GRACE_SECONDS = 10.0


@dataclass
class FunctionProcess:
    """One running function: where it listens and where its log goes."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM (gunicorn drains in-flight requests), then SIGKILL after a grace period."""
        stop_all([self])


def stop_all(processes: Sequence[FunctionProcess]) -> None:
    """Stop every process at once: all drain side by side within one grace period,
    so twenty functions stop in the time of the slowest, not the sum of them."""
    for running in processes:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    for running in processes:
        try:
            running.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


def launch(
    name: str,
    source: Path,
    environment: Mapping[str, str],
    log_dir: Path,
    port: int | None = None,
) -> FunctionProcess:
    """Start the function `name` from `source` with functions-framework on `port` (or a
    free one).

    Returns at once; `wait_until_healthy` waits for it to serve.
    """
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        "handle",
        "--source",
        str(source),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {**os.environ, **environment, "K_SERVICE": name, "PORT": str(port)}
    with log_path.open("ab") as log_file:
        # Own session (Ctrl-C reaches the launcher, which stops us all at once) and SIGTERM
        # when the launcher dies, so a launcher killed hard leaves no function behind.
        process = spawn(name, command, log_file, signal.SIGTERM, cwd=REPOSITORY_ROOT, env=env)
    return FunctionProcess(name, port, process, log_path, time.monotonic())


def wait_until_healthy(running: FunctionProcess) -> float:
    """Block until `GET /health` answers 2xx; returns seconds since the process started."""
    deadline = running.started_at + _STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise DependencyError(
                f"function {running.name} exited with code "
                f"{running.process.returncode}; see {running.log_path}"
            )
        try:
            with urllib.request.urlopen(f"{running.url}/health", timeout=1) as response:
                if 200 <= response.status < 300:
                    return time.monotonic() - running.started_at
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise DependencyError(
        f"function {running.name} did not become healthy within "
        f"{_STARTUP_TIMEOUT_SECONDS:.0f} s; see {running.log_path}"
    )


def _threads(function: Function) -> dict[str, str]:
    """functions-framework's THREADS for a function that sets its own, as in the cluster."""
    return {} if function.request_threads is None else {"THREADS": str(function.request_threads)}


def start_all(
    functions: tuple[Function, ...],
    environment: Mapping[str, str],
    log_dir: Path,
    progress: Callable[[str], None],
) -> list[FunctionProcess]:
    """Start every function at once, then wait for each; on failure stop them all."""
    running = [
        launch(
            function.name,
            REPOSITORY_ROOT / function.source,
            {**environment, **_threads(function)},
            log_dir,
        )
        for function in functions
    ]
    try:
        for process in running:
            seconds = wait_until_healthy(process)
            progress(f"function {process.name:<20} ready on {process.url} ({seconds:.1f} s)")
    except BaseException:
        stop_all(running)
        raise
    return running


def start_frontend(
    backend_url: str, port: int, log_dir: Path, progress: Callable[[str], None]
) -> FunctionProcess:
    """The `frontend` function on `port`, calling the backend functions through
    `backend_url` (the gateway), over plain HTTP on this machine."""
    frontend = get_function("frontend")
    environment = {
        "BACKEND_URL": backend_url,
        "PUBLIC_ORIGIN": f"http://127.0.0.1:{port}",
        "COOKIE_SECURE": "false",
        # Browsers reach the site directly: the socket peer is the client.
        "TRUSTED_PROXY_HOPS": "0",
        **_threads(frontend),
    }
    process = launch(frontend.name, REPOSITORY_ROOT / frontend.source, environment, log_dir, port)
    try:
        seconds = wait_until_healthy(process)
    except BaseException:
        process.stop()
        raise
    progress(f"function {process.name:<20} ready on {process.url} ({seconds:.1f} s)")
    return process
