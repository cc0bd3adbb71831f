"""The ingest queue against real Celery/kombu, with no server: the message the worker will read,
on kombu's in-memory transport, and a broker that refuses connections.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kombu import Connection

from ingestapi.queue import IngestQueue
from shared.errors import DependencyUnavailable
from shared.jobs import (
    CAPTURE_QUEUE,
    CAPTURE_TASK,
    INGEST_QUEUE,
    INGEST_TASK,
    VARIANT_QUEUE,
    VARIANT_TASK,
)


@pytest.fixture
def memory_queue() -> Iterator[IngestQueue]:
    queue = IngestQueue("memory://")
    yield queue
    queue.close()


def test_enqueue_sends_the_worker_task_by_name_with_the_job_id_as_task_id(
    memory_queue: IngestQueue,
) -> None:
    memory_queue.enqueue("job-1", "ab" * 32, "a.png")
    with Connection("memory://") as connection:
        waiting = connection.SimpleQueue(INGEST_QUEUE)
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
    assert (message.headers["task"], message.headers["id"]) == (INGEST_TASK, "job-1")
    args, kwargs, _ = message.payload
    assert (args, kwargs) == ([], {"job_id": "job-1", "image_id": "ab" * 32, "filename": "a.png"})


def test_enqueue_variant_sends_the_render_task_on_the_variants_queue(
    memory_queue: IngestQueue,
) -> None:
    memory_queue.enqueue_variant("job-2", "ab" * 32, "cd" * 32)
    with Connection("memory://") as connection:
        waiting = connection.SimpleQueue(VARIANT_QUEUE)
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
    assert (message.headers["task"], message.headers["id"]) == (VARIANT_TASK, "job-2")
    _, kwargs, _ = message.payload
    assert kwargs == {"job_id": "job-2", "image_id": "ab" * 32, "variant_id": "cd" * 32}


def test_enqueue_capture_sends_the_capture_task_on_the_capture_queue(
    memory_queue: IngestQueue,
) -> None:
    capture_id = "0b7e1c2a-4d1f-4a57-9a55-3d6f2f1c9e10"
    memory_queue.enqueue_capture(capture_id)
    with Connection("memory://") as connection:
        waiting = connection.SimpleQueue(CAPTURE_QUEUE)
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
    assert (message.headers["task"], message.headers["id"]) == (CAPTURE_TASK, capture_id)
    _, kwargs, _ = message.payload
    assert kwargs == {"job_id": capture_id, "capture_id": capture_id}


def test_a_broker_that_refuses_connections_is_dependency_unavailable() -> None:
    queue = IngestQueue("redis://127.0.0.1:1/0")  # port 1: nothing listens, refused at once
    try:
        with pytest.raises(DependencyUnavailable):
            queue.enqueue("job-1", "ab" * 32, "a.png")
    finally:
        queue.close()
