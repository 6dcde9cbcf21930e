"""`./taskw image` picks an engine that can really build, or says there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasma.deploy import container_image


def test_a_cli_without_its_daemon_does_not_count() -> None:
    installed = {"docker"}
    with pytest.raises(container_image.NoEngineError, match="no container engine"):
        container_image.find_engine(
            which=lambda name: name if name in installed else None, probe=lambda command: 1
        )


def test_the_first_working_engine_wins() -> None:
    answering = {"buildah", "docker"}
    engine = container_image.find_engine(
        which=lambda name: name, probe=lambda command: 0 if command[0] in answering else 1
    )
    assert engine == "buildah"


def test_build_commands_use_the_containerfile_and_its_ignore_file() -> None:
    root = Path("/repo")
    podman = container_image.build_command("podman", "dev.local/phasma:1", root)
    assert podman[:2] == ["podman", "build"] and podman[-1] == "/repo"
    assert "/repo/knative/Containerfile" in podman
    assert "/repo/knative/Containerfile.dockerignore" in podman
    docker = container_image.build_command("docker", "dev.local/phasma:1", root)
    assert "--ignorefile" not in docker  # docker reads it beside the Containerfile
