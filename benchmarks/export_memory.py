"""Exporter memory: a 1,000-post export (~300 MB of originals) keeps RSS growth bounded.

Starts its own embedded stack, seeds one account with `--posts` posts whose originals are
~300 KB noise JPEGs (uploaded once), then runs the `exporter`'s handler in a child
process on a `phasma.export.requested` event. The child reports its peak RSS
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) after building its runtime and after the
export; the difference is the export's growth, which must stay under 150 MB.

    python -m benchmarks.export_memory [--posts 1000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import subprocess
import sys
import zipfile

import boto3
from PIL import Image

from benchmarks.harness import embedded_stack, report_progress
from phasma.db.connect import connect

LIMIT_MB = 150
IMAGE_BYTES = 300 * 1024

CHILD = r"""
import json, resource, sys, uuid
from phasma.config import get_settings
from phasma.events.worker import ReceivedEvent
from phasma.exports.worker import handle
from phasma.registry import get_function
from phasma.runtime import Runtime

export_id, user_id = sys.argv[1], sys.argv[2]
runtime = Runtime(get_function("exporter"), get_settings())
runtime.db.read(lambda executor: executor.fetch_value("SELECT 1"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
event = ReceivedEvent("bench-1", "phasma.export.requested", "/phasma/users", export_id, None,
                      {"exportId": export_id, "userId": user_id})
outcome = handle(event, runtime)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "before_kib": before, "after_kib": after}))
"""


def noise_jpeg() -> bytes:
    """A ~300 KB JPEG of random pixels: noise does not compress, so size tracks pixels."""
    side = 512
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=95)
    return output.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()
    with embedded_stack("export") as stack:
        env = stack.environment
        s3 = boto3.session.Session().client(
            "s3",
            endpoint_url=env["S3_ENDPOINT"],
            region_name=env.get("S3_REGION", "us-east-1"),
            aws_access_key_id=env.get("S3_ACCESS_KEY"),
            aws_secret_access_key=env.get("S3_SECRET_KEY"),
        )
        connection = connect(stack.urls.database_url)
        user_id, user_public_id = connection.run(
            "INSERT INTO users (name, username, email, password_hash) "
            "VALUES ('Bench', 'exportbench', 'bench@example.com', 'x') RETURNING id, public_id"
        )[0]
        total = 0
        for number in range(args.posts):
            filename = secrets.token_hex(16)
            data = noise_jpeg()
            total += len(data)
            s3.put_object(Bucket=env["S3_BUCKET"], Key=filename, Body=data)
            connection.run(
                "INSERT INTO posts (user_id, filename, description, width, height) "
                "VALUES (:user_id, :filename, :description, 512, 512)",
                user_id=user_id,
                filename=filename,
                description=f"post {number}",
            )
            if (number + 1) % 200 == 0:
                report_progress(f"seeded {number + 1} posts, {total / 2**20:.0f} MiB")
        export_id = connection.run(
            "INSERT INTO exports (user_id) VALUES (:user_id) RETURNING public_id", user_id=user_id
        )[0][0]
        connection.close()
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(export_id), str(user_public_id)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        body = s3.get_object(Bucket=env["S3_BUCKET"], Key=f"exports/{export_id}.zip")["Body"]
        archive = zipfile.ZipFile(io.BytesIO(body.read()))
        images = sum(1 for name in archive.namelist() if name.startswith("images/"))
        growth_mb = (result["after_kib"] - result["before_kib"]) / 1024
        print(
            f"exporter: {args.posts} posts, {total / 2**20:.0f} MiB of originals, "
            f"{images} images in the ZIP, outcome {result['outcome']}; peak RSS "
            f"{result['before_kib'] / 1024:.0f} MiB before, {result['after_kib'] / 1024:.0f} MiB "
            f"after: growth {growth_mb:.1f} MiB (limit {LIMIT_MB} MB)"
        )
        if images != args.posts or growth_mb >= LIMIT_MB:
            sys.exit(1)


if __name__ == "__main__":
    main()
