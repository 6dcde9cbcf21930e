"""`./taskw up`: the whole product on the embedded local stack.

    python -m phasma.devstack up [--port 8081]

Starts the dependency servers (unless named in the environment), applies
migrations, creates the bucket and topics, starts every registered function in
its own functions-framework process and the API gateway. Ctrl-C stops
everything it started, and nothing else.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from phasma.db.migrations import MigrationError
from phasma.devstack.gateway import Gateway, HttpUpstream, serve
from phasma.devstack.processes import REPOSITORY_ROOT, FunctionProcess, start_all
from phasma.devstack.services import Dependencies, DependencyError
from phasma.devstack.stack import prepare
from phasma.registry import http_functions


def progress(line: str) -> None:
    print(f"phasma: {line}", flush=True)


def up(port: int) -> None:
    state_dir = Path(os.environ.get("PHASMA_STATE_DIR", REPOSITORY_ROOT / ".phasma"))
    started = time.monotonic()
    progress(f"starting the local stack (state in {state_dir})")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    processes: list[FunctionProcess] = []
    with Dependencies(state_dir, os.environ, progress) as dependencies:
        urls = dependencies.start()
        environment = prepare(urls, state_dir, os.environ, progress)
        try:
            processes = start_all(http_functions(), environment, state_dir / "logs", progress)
            gateway = serve(
                Gateway({p.name: HttpUpstream(p.url) for p in processes}),
                "127.0.0.1",
                port,
            )
            threading.Thread(target=gateway.serve_forever, daemon=True).start()
            progress(f"ready in {time.monotonic() - started:.1f} s")
            progress(f"API gateway  http://127.0.0.1:{port}  (try /users/me or POST /users)")
            progress(f"logs         {state_dir / 'logs'}")
            progress("press Ctrl-C to stop")
            _watch(processes, stop)
            gateway.shutdown()
        finally:
            progress("stopping")
            for process in processes:
                process.stop()
    progress("stopped")


def _watch(processes: list[FunctionProcess], stop: threading.Event) -> None:
    """Wait for Ctrl-C or SIGTERM, reporting any function that dies meanwhile."""
    reported: set[str] = set()
    try:
        while not stop.wait(1.0):
            for process in processes:
                code = process.process.poll()
                if code is not None and process.name not in reported:
                    reported.add(process.name)
                    progress(
                        f"function {process.name} exited with code {code}; see {process.log_path}"
                    )
    except KeyboardInterrupt:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m phasma.devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    up_command = commands.add_parser("up", help="run the whole product locally")
    up_command.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8081)))
    arguments = parser.parse_args()
    try:
        up(arguments.port)
    except (DependencyError, MigrationError) as error:
        print(f"phasma: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
