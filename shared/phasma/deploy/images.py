"""Container images: the project's one image and the pinned third-party ones.

Third-party images are pinned to exact version tags (never `latest`). Digests are not
recorded because this repository cannot reach the registries to verify them; pin by
digest in the cluster's image policy or a kustomize overlay where that matters.
The function image is `dev.local/phasma:<version>`: Knative skips tag-to-digest
resolution for `dev.local` by default, so a locally loaded image works, while
`./taskw deploy --image REGISTRY/phasma@sha256:...` deploys a pushed one by digest
(Knative resolves any tag to a digest per revision anyway).
"""

from __future__ import annotations

from importlib.metadata import version

POSTGRES = "docker.io/library/postgres:18.1-alpine"
CACHE = "docker.dragonflydb.io/dragonflydb/dragonfly:v1.34.1"
BROKER = "docker.redpanda.com/redpandadata/redpanda:v25.2.1"
STORAGE = "docker.io/chrislusf/seaweedfs:4.48"
SEARCH = "docker.io/getmeili/meilisearch:v1.11.3"
POOLER = "docker.io/edoburu/pgbouncer:1.23.1-p2"

THIRD_PARTY = (POSTGRES, CACHE, BROKER, STORAGE, SEARCH, POOLER)


def function_image() -> str:
    """The default reference of the image every function and Job runs."""
    return f"dev.local/phasma:{version('phasma')}"
