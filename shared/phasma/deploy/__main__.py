"""Command line: `python -m phasma.deploy {manifests [--check] | deploy | image}`."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence

from phasma.deploy import container_image, manifests, rollout
from phasma.deploy.images import function_image


def manifests_command(options: argparse.Namespace) -> int:
    """Write `knative/`, or with --check report whether it is stale."""
    files = manifests.build()
    if options.check:
        stale = manifests.differences(files)
        if stale:
            print(f"knative/ is stale ({', '.join(stale)}): run ./taskw manifests", file=sys.stderr)
            return 1
        print("knative/ is up to date")
        return 0
    manifests.write(files)
    print(f"wrote {len(files)} files to {manifests.OUTPUT_DIRECTORY}")
    return 0


def deploy_command(options: argparse.Namespace) -> int:
    """Apply the manifests to the current kubectl context in rollout order."""
    try:
        rollout.preflight()
        files = manifests.build(image=options.image)
        rollout.Rollout(timeout=options.timeout).deploy(files)
    except rollout.DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    print("deploy: every workload is ready")
    return 0


def image_command(options: argparse.Namespace) -> int:
    """Build the function image with the first engine that can build."""
    try:
        engine = container_image.find_engine()
    except container_image.NoEngineError as error:
        print(f"image: {error}", file=sys.stderr)
        return 1
    command = container_image.build_command(engine, options.tag, manifests.REPOSITORY_ROOT)
    print(" ".join(command))
    return subprocess.run(command, check=False).returncode


def main(arguments: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m phasma.deploy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("manifests", help="generate knative/ from the registry")
    generate.add_argument("--check", action="store_true", help="fail if knative/ is stale")
    generate.set_defaults(run=manifests_command)
    deploy = commands.add_parser("deploy", help="apply knative/ in rollout order and wait")
    deploy.add_argument(
        "--image",
        default=None,
        help=f"function image, e.g. REGISTRY/phasma@sha256:... (default {function_image()})",
    )
    deploy.add_argument("--timeout", default="180s", help="wait per workload (default 180s)")
    deploy.set_defaults(run=deploy_command)
    image = commands.add_parser("image", help="build the function image")
    image.add_argument("--tag", default=function_image(), help="image reference to tag")
    image.set_defaults(run=image_command)
    options = parser.parse_args(arguments)
    run: Callable[[argparse.Namespace], int] = options.run
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
