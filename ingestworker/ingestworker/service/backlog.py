"""Gauges of the work waiting and done, read when Prometheus scrapes the worker's ``/metrics``.

``broker_queue_length{queue}`` is the length of each Celery queue's Redis list (messages waiting
for a worker, not those a worker holds); ``job_records{kind,state}`` counts the catalog's job
records by kind and state.

Rules:
- Read at scrape time, never cached: the gauges show the system as it is, even while this worker
  is idle. Every worker reports the same values (one Redis, one catalog), so dashboards and
  alerts take the max over workers.
- A dependency that does not answer leaves its gauge out of that scrape instead of failing it:
  the worker's other metrics still arrive, and ``readiness_check`` says which dependency is down.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.catalog.jobs import JobStore
from shared.errors import DependencyUnavailable
from shared.logging import get_logger

log = get_logger(__name__)


class BacklogCollector(Collector):
    def __init__(self, redis_client: redis.Redis, jobs: JobStore, queues: Sequence[str]) -> None:
        self._redis = redis_client
        self._jobs = jobs
        self._queues = tuple(queues)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            lengths = {queue: self._redis.llen(queue) for queue in self._queues}
        except redis.RedisError as exc:
            log.warning("queue lengths unavailable", error=str(exc))
        else:
            queued = GaugeMetricFamily(
                "broker_queue_length", "messages waiting in the queue", labels=["queue"]
            )
            for queue, length in lengths.items():
                queued.add_metric([queue], float(length))
            yield queued
        try:
            counts = self._jobs.counts()
        except DependencyUnavailable as exc:
            log.warning("job counts unavailable", error=exc.detail)
        else:
            records = GaugeMetricFamily(
                "job_records", "job records by kind and state", labels=["kind", "state"]
            )
            for (kind, state), count in sorted(counts.items()):
                records.add_metric([kind, state], float(count))
            yield records
