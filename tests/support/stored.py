"""What a stack holds, taken whole, to prove that a refused request left nothing behind.

Looking up the keys of the request's own image id would miss a leak under any other key (a
staging object named by a partial hash, a job record of a rejected file); so every key in the
bucket, every job record in the catalog and the length of the ingest queue are compared instead.
The queue length only means something while no worker consumes it: take it on a stack without a
worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import select

from shared.catalog.models import JobRow
from shared.jobs import INGEST_QUEUE
from tests.support.stack import Stack


@dataclass(frozen=True)
class Stored:
    objects: frozenset[str]
    jobs: frozenset[str]
    queued: int


def stored(stack: Stack) -> Stored:
    """Every object key in the stack's bucket, every job record, the messages on the queue."""
    client = redis.Redis.from_url(stack.servers.redis_url(stack.redis_db))
    catalog = stack.catalog()
    try:
        with catalog.session() as session:
            jobs = frozenset(session.scalars(select(JobRow.id)))
        return Stored(
            objects=frozenset(stack.objects().keys("")),
            jobs=jobs,
            # Celery's Redis transport keeps a queue as a list under the queue's name.
            queued=int(client.llen(INGEST_QUEUE)),
        )
    finally:
        client.close()
        catalog.close()
