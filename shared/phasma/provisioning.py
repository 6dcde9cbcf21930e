"""Creating what the functions expect to exist: the topics, their retention and the bucket.

Each step is idempotent. The cluster's setup Jobs (`phasma.deploy.setup`) and the local
stack (`phasma.devstack.stack`) both run these, so development and the cluster create
them the same way; the database logins are `phasma.db.migrations.ensure_login_user`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

# The login the functions connect as (docs/domain.md §1.3), member of the NOLOGIN `phasma_app`.
APP_DATABASE_USER: Final = "phasma_user"
# The search indexer's login, member of `phasma_indexer` (migration 0011).
INDEXER_DATABASE_USER: Final = "phasma_indexer_user"


class ProvisioningError(RuntimeError):
    """A topic or its retention could not be set up; str(err) says which and why."""


def create_topics(brokers: str, topics: Mapping[str, int]) -> dict[str, str | None]:
    """Create the topics (name -> partitions) that do not exist yet; returns each one's id.

    Existing topics stay as they are. A topic deleted and created again under the same
    name gets a new id (None from a broker that predates topic ids), so callers can
    tell a recreated topic from the one they knew.
    """
    admin = KafkaAdminClient(bootstrap_servers=brokers, client_id="phasma-devstack")
    try:
        described = _describe_topics(admin, topics)
        missing = {
            name: {"num_partitions": partitions, "replication_factor": 1}
            for name, partitions in topics.items()
            if name not in described
        }
        if not missing:
            return described
        result = admin.create_topics(missing, raise_errors=False)
        for topic in result["topics"]:
            if topic["error_code"] not in (0, TopicAlreadyExistsError.errno):
                raise ProvisioningError(
                    f"kafka: could not create topic {topic['name']}: {topic['error_message']}"
                )
        return _describe_topics(admin, topics)
    finally:
        admin.close()


def _describe_topics(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, str | None]:
    """The id of each named topic that exists (describing never creates one)."""
    return {
        topic["name"]: str(topic["topic_id"]) if topic["topic_id"] else None
        for topic in admin.describe_topics(list(names))
        if topic["error_code"] == 0
    }


def set_retention(brokers: str, retention_ms: Mapping[str, int]) -> None:
    """Set `retention.ms` per topic (the only topic setting Phasma overrides).

    The client alters incrementally where the broker supports it, so other topic
    settings are kept; the broker, not a client-side list, judges the key.
    """
    admin = KafkaAdminClient(bootstrap_servers=brokers, client_id="phasma-setup")
    try:
        results = admin.alter_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, name, configs={"retention.ms": str(ms)})
                for name, ms in retention_ms.items()
            ],
            raise_on_unknown=False,
        )
    finally:
        admin.close()
    failures = {name: result for name, result in results.get("topic", {}).items() if result != "OK"}
    if failures:
        raise ProvisioningError(f"could not set retention: {failures}")


def create_bucket(
    endpoint: str, bucket: str, access_key: str, secret_key: str, region: str
) -> None:
    """Create the bucket unless we own it already."""
    client = s3_client(endpoint, access_key, secret_key, region)
    options: dict[str, Any] = {}
    if region != "us-east-1":  # AWS rejects an explicit us-east-1
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(Bucket=bucket, **options)
    except ClientError as err:
        if err.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def s3_client(
    endpoint: str, access_key: str, secret_key: str, region: str, *, probing: bool = False
) -> Any:
    """A boto3 S3 client with path-style addressing; `probing` fails fast (one short try)."""
    config = Config(
        s3={"addressing_style": "path"},
        connect_timeout=1 if probing else 10,
        read_timeout=5 if probing else 60,
        retries={"max_attempts": 1 if probing else 3},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=config,
    )
