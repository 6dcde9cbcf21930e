"""The setup Jobs' commands against the real broker, object store and database."""

from __future__ import annotations

import uuid

import boto3
from kafka.admin import KafkaAdminClient

from phasma.deploy import setup
from phasma.devstack.services import DependencyUrls
from phasma.devstack.stack import LOCAL_S3_KEYS


def test_topics_twice_leave_every_topic_in_place(
    dependencies: DependencyUrls,
) -> None:
    environ = {"KAFKA_BROKERS": dependencies.kafka_brokers}
    assert setup.main(["topics"], environ) == 0
    assert setup.main(["topics"], environ) == 0  # idempotent
    # The local broker (Tansu) accepts retention.ms but does not report it back, so
    # only the topics themselves are checked here; Redpanda applies both.
    admin = KafkaAdminClient(bootstrap_servers=dependencies.kafka_brokers)
    try:
        assert {"entity-changes", "activity", "dead-letter"} <= set(admin.list_topics())
    finally:
        admin.close()


def test_bucket_twice(dependencies: DependencyUrls) -> None:
    bucket = f"setup-{uuid.uuid4().hex[:8]}"
    environ = {
        "S3_ENDPOINT": dependencies.s3_endpoint,
        "S3_BUCKET": bucket,
        "S3_ACCESS_KEY": LOCAL_S3_KEYS[0],
        "S3_SECRET_KEY": LOCAL_S3_KEYS[1],
    }
    assert setup.main(["bucket"], environ) == 0
    assert setup.main(["bucket"], environ) == 0
    client = boto3.client(
        "s3",
        endpoint_url=dependencies.s3_endpoint,
        aws_access_key_id=LOCAL_S3_KEYS[0],
        aws_secret_access_key=LOCAL_S3_KEYS[1],
        region_name="us-east-1",
    )
    client.head_bucket(Bucket=bucket)
