"""The request id travels with the job: the message ingestapi queues, read back from kombu's
in-memory transport as the worker would read it (no server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection

from ingestapi.queue import IngestQueue
from shared.jobs import INGEST_QUEUE
from shared.logging import REQUEST_ID_TASK_HEADER, bind_request_id, unbind_request_id


@pytest.fixture
def memory_queue() -> Iterator[IngestQueue]:
    queue = IngestQueue("memory://")
    yield queue
    queue.close()


def _headers_of_next_message() -> dict[str, Any]:
    with Connection("memory://") as connection:
        waiting = connection.SimpleQueue(INGEST_QUEUE)
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
    headers: dict[str, Any] = message.headers
    return headers


def test_a_job_queued_while_serving_a_request_carries_its_id(memory_queue: IngestQueue) -> None:
    bind_request_id("upload-7")
    try:
        memory_queue.enqueue("job-1", "ab" * 32, "a.png")
    finally:
        unbind_request_id()
    assert _headers_of_next_message()[REQUEST_ID_TASK_HEADER] == "upload-7"


def test_a_job_queued_outside_a_request_carries_no_id(memory_queue: IngestQueue) -> None:
    memory_queue.enqueue("job-2", "cd" * 32, "b.png")
    assert REQUEST_ID_TASK_HEADER not in _headers_of_next_message()
