"""`./taskw image`: build the one image every function runs, with whatever engine works.

An engine counts only if it can actually build: the docker CLI without a reachable
daemon (`docker info` fails) does not.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

Runner = Callable[[Sequence[str]], int]

# engine -> (probe command, build command prefix); tried in this order.
ENGINES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "podman": (("podman", "info"), ("podman", "build")),
    "buildah": (("buildah", "info"), ("buildah", "build")),
    "docker": (("docker", "info"), ("docker", "build")),
}


class NoEngineError(Exception):
    """No container engine on this machine can build images."""


def run_quietly(command: Sequence[str]) -> int:
    """Exit status of `command`, its output discarded."""
    return subprocess.run(
        list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    ).returncode


def find_engine(
    which: Callable[[str], str | None] = shutil.which, probe: Runner = run_quietly
) -> str:
    """The first engine that is installed and answers its `info` command."""
    for engine, (probe_command, _) in ENGINES.items():
        if which(engine) is not None and probe(probe_command) == 0:
            return engine
    raise NoEngineError(
        "no container engine that can build is available "
        f"(tried {', '.join(ENGINES)}; docker needs a running daemon)"
    )


def build_command(engine: str, tag: str, repository: Path) -> list[str]:
    """The build command line for `engine`, with the repository root as context."""
    _, prefix = ENGINES[engine]
    containerfile = repository / "knative" / "Containerfile"
    command = [*prefix, "--file", str(containerfile), "--tag", tag]
    if engine != "docker":
        # docker finds Containerfile.dockerignore beside the Containerfile by itself.
        command += ["--ignorefile", f"{containerfile}.dockerignore"]
    return [*command, str(repository)]
