"""`record_event` publishes after commit, once per transaction, and never after a rollback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from phasma.config import Settings
from phasma.db.pool import Database as Pool
from phasma.db.pool import Executor
from phasma.events.catalogue import FollowChanged
from phasma.events.outbox import record_event
from tests.api.conftest import Database
from tests.events.records import TopicReader


@pytest.fixture
def pool(events_settings: Settings) -> Iterator[Pool]:
    database = Pool(events_settings)
    yield database
    database.close()


def follow(executor: Executor, actor: uuid.UUID, recipient: uuid.UUID) -> int:
    return record_event(
        executor,
        event_type="phasma.user.followed",
        source_function="follows",
        subject=str(recipient),
        payload=FollowChanged(actor_id=actor, recipient_id=recipient),
    )


def published(database: Database, ids: list[int]) -> dict[int, bool]:
    rows = database.rows(
        "SELECT id, published_at IS NOT NULL FROM outbox WHERE id = ANY(:ids)", ids=ids
    )
    return {row[0]: row[1] for row in rows}


def test_a_transaction_publishes_its_rows_in_one_batch_after_commit(
    pool: Pool, database: Database, events_settings: Settings
) -> None:
    reader = TopicReader(events_settings.kafka_brokers or "")
    recipient = uuid.uuid4()
    with pool.transaction() as executor:
        ids = [follow(executor, uuid.uuid4(), recipient) for _ in range(3)]
        assert len(executor.commit_callbacks) == 1  # one publication for the transaction
        assert published(database, ids) == {}  # not even visible before the commit

    assert published(database, ids) == dict.fromkeys(ids, True)
    records = reader.with_ids(ids, str(recipient))
    reader.close()
    offsets = [records[str(event_id)][0].offset for event_id in ids]
    assert offsets == sorted(offsets)  # one key: in the order they were recorded


def test_a_rolled_back_transaction_publishes_nothing(
    pool: Pool, database: Database, events_settings: Settings
) -> None:
    reader = TopicReader(events_settings.kafka_brokers or "")
    recorded: list[int] = []
    recipient = uuid.uuid4()
    with pytest.raises(RuntimeError), pool.transaction() as executor:
        recorded.append(follow(executor, uuid.uuid4(), recipient))
        raise RuntimeError("the change fails after its event was recorded")
    reader.drain(0.5)
    reader.close()
    assert published(database, recorded) == {}
    assert str(recorded[0]) not in reader.by_id(str(recipient))


def test_without_brokers_rows_wait_for_the_relay(
    events_database: tuple[str, str], database: Database
) -> None:
    settings = Settings(_env_file=None, database_url=events_database[1], kafka_brokers=None)
    unconfigured = Pool(settings)
    try:
        with unconfigured.transaction() as executor:
            event_id = follow(executor, uuid.uuid4(), uuid.uuid4())
    finally:
        unconfigured.close()
    assert published(database, [event_id]) == {event_id: False}
