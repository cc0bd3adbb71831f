"""The sweeper against the session's real Redis: the task ids it reads are those of real Celery
messages, waiting in a queue's list or taken by a consumer and not acknowledged (kombu's
``unacked`` hash), and a lost job it sends again lands where it looks next time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from kombu import Connection
from prometheus_client import CollectorRegistry
from sqlalchemy import update

from ingestworker.frame_queue import FrameQueue
from ingestworker.service.sweeper import BrokerTaskIds, JobSweeper
from shared.catalog.jobs import JobStore, now_ms
from shared.catalog.models import JobRow
from shared.domain import Job, JobState
from shared.jobs import INGEST_QUEUE, INGEST_TASK
from tests.support.local_catalog import sqlite_catalog
from tests.support.servers import Servers

DB = 13
IMAGE = "ab" * 32


@pytest.fixture()
def client(servers: Servers) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(servers.redis_url(DB))
    yield client
    client.close()


@pytest.fixture()
def queue_name(client: redis.Redis) -> Iterator[str]:
    name = f"test-sweeper-{uuid.uuid4().hex}"
    yield name
    client.delete(name)


def send_ingest(queue: FrameQueue, queue_name: str, job_id: str) -> None:
    kwargs = {"job_id": job_id, "image_id": IMAGE, "filename": "a.png"}
    queue.send(INGEST_TASK, queue_name, kwargs)


def test_ids_of_messages_waiting_in_a_queue_are_read_across_pages(
    servers: Servers, client: redis.Redis, queue_name: str
) -> None:
    sent = [f"job-{n}-{uuid.uuid4()}" for n in range(7)]
    queue = FrameQueue(servers.redis_url(DB))
    for job_id in sent:
        send_ingest(queue, queue_name, job_id)
    client.lpush(queue_name, b"not a message")

    ids = BrokerTaskIds(client, [queue_name], page=3)()

    assert set(sent) <= ids
    assert client.llen(queue_name) == 8  # read, not taken


def test_a_taken_message_is_read_from_the_unacked_hash_until_it_is_acknowledged(
    servers: Servers, client: redis.Redis, queue_name: str
) -> None:
    job_id = str(uuid.uuid4())
    send_ingest(FrameQueue(servers.redis_url(DB)), queue_name, job_id)
    known = BrokerTaskIds(client, [queue_name])
    with Connection(servers.redis_url(DB)) as connection:
        consumer = connection.SimpleQueue(queue_name)
        message = consumer.get(timeout=5)
        assert message.headers["id"] == job_id
        assert client.llen(queue_name) == 0  # off the list: only the hash holds it now
        assert job_id in known()
        message.ack()
        consumer.close()
    assert job_id not in known()


def test_a_lost_job_is_sent_again_where_the_sweeper_looks_and_only_once(
    servers: Servers, client: redis.Redis, tmp_path: Path
) -> None:
    catalog = sqlite_catalog(tmp_path)
    jobs = JobStore(catalog)
    job_id = str(uuid.uuid4())
    jobs.create(Job(job_id, JobState.QUEUED, IMAGE, "a.png"))
    with catalog.session() as session:
        session.execute(update(JobRow).values(updated_at=now_ms() - 600_000))
    known = BrokerTaskIds(client, [INGEST_QUEUE])
    queue = FrameQueue(servers.redis_url(DB))
    sweeper = JobSweeper(jobs, known, queue.send, CollectorRegistry(), after_s=120)
    try:
        assert sweeper.sweep() == [job_id]
        assert job_id in known()
        assert sweeper.sweep() == []
    finally:
        client.delete(INGEST_QUEUE)
