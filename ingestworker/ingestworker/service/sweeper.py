"""The sweeper: sends again the jobs whose message the broker lost.

Kombu's Redis transport takes a message off its queue list (BRPOP), then records it in its
``unacked`` hash until the worker acknowledges it. A worker killed between the two steps takes
the message with it: nothing redelivers it, and its job stays ``queued`` for ever though its bytes
are staged. On a thread of the worker, every ``worker.sweep_interval_s`` (and once shortly after
start), the sweeper finds such jobs and sends their task again, with the same arguments and id.

Rules:
- Re-sent: an ingest or variant job still ``queued`` and untouched for ``worker.sweep_after_s``
  that no message names, neither waiting in its queue nor delivered and unacknowledged. A retry
  sets its job back to queued and refreshes it, and holds its delayed message in the unacked hash.
- Messages move (queue to hash when taken, hash to queue when kombu restores them), so one look
  can miss one in passing: a job is re-sent only if a second look misses it too and its record,
  read again, is still queued as it was. A duplicate would be harmless (the tasks are idempotent,
  a finished job ends as it ended), only wasted work.
- Captures are left alone: their state lives with the capture, and a stream is no job to repeat.
- A sweep that cannot reach the catalog or the broker is skipped; the next one tries again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence

import redis
from prometheus_client import CollectorRegistry, Counter

from shared.catalog.jobs import JobStore, now_ms
from shared.domain import Job, JobState
from shared.errors import DependencyUnavailable
from shared.jobs import INGEST_QUEUE, INGEST_TASK, VARIANT_JOB_KIND, VARIANT_QUEUE, VARIANT_TASK
from shared.logging import get_logger

log = get_logger(__name__)

INGEST_JOB_KIND = "ingest"  # ``Job``'s default kind
SWEPT_KINDS = (INGEST_JOB_KIND, VARIANT_JOB_KIND)
SWEPT_QUEUES = (INGEST_QUEUE, VARIANT_QUEUE)

Send = Callable[[str, str, dict[str, str]], None]
"""Sends a task by name on a queue with these arguments; the task id is ``kwargs["job_id"]``."""
KnownTaskIds = Callable[[], set[str]]
"""The task ids of every message the broker still holds for the swept queues."""


def task_of(job: Job) -> tuple[str, str, dict[str, str]] | None:
    """The task, queue and arguments ingestapi sent for ``job``; None if it sends none."""
    if job.kind == INGEST_JOB_KIND and job.image_id:
        kwargs = {"job_id": job.job_id, "image_id": job.image_id, "filename": job.filename or ""}
        return INGEST_TASK, INGEST_QUEUE, kwargs
    if job.kind == VARIANT_JOB_KIND and job.image_id and "variant_id" in job.params:
        variant_id = str(job.params["variant_id"])
        kwargs = {"job_id": job.job_id, "image_id": job.image_id, "variant_id": variant_id}
        return VARIANT_TASK, VARIANT_QUEUE, kwargs
    return None


class JobSweeper:
    def __init__(
        self,
        jobs: JobStore,
        known_task_ids: KnownTaskIds,
        send: Send,
        registry: CollectorRegistry,
        after_s: float,
        batch: int = 100,
    ) -> None:
        self._jobs = jobs
        self._known_task_ids = known_task_ids
        self._send = send
        self._after_ms = int(after_s * 1000)
        self._batch = batch
        self._resent = Counter(
            "ingestworker_jobs_resent",
            "queued jobs whose lost message was sent again",
            ["kind"],
            registry=registry,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> list[str]:
        """Send again the jobs whose message is lost; their ids."""
        stale = [
            job
            for kind in SWEPT_KINDS
            for job in self._jobs.stale_queued(kind, self._after_ms, self._batch)
        ]
        lost = self._unseen(self._unseen(stale))  # a second look for a message in passing
        resent = []
        for job in lost:
            task = task_of(job)
            if task is None or not self._untouched(job):
                continue
            self._send(*task)
            self._resent.labels(job.kind).inc()
            untouched_s = round((now_ms() - job.updated_at) / 1000)
            log.warning("job re-sent", job_id=job.job_id, kind=job.kind, untouched_s=untouched_s)
            resent.append(job.job_id)
        return resent

    def start(self, interval_s: float, first_after_s: float = 10) -> None:
        """Sweep on a daemon thread every ``interval_s``, first ``first_after_s`` from now
        (no later than ``interval_s``); an interval of 0 never sweeps."""
        if interval_s <= 0:
            log.info("job sweeper off")
            return
        wait_s = min(first_after_s, interval_s)
        self._thread = threading.Thread(
            target=self._run, args=(interval_s, wait_s), name="job-sweeper", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, interval_s: float, wait_s: float) -> None:
        while not self._stop.wait(wait_s):
            wait_s = interval_s
            try:
                self.sweep()
            except DependencyUnavailable as exc:
                log.warning("sweep skipped", dependency=exc.dependency, error=exc.detail)
            except Exception:
                # logged and swept again next time: a dead thread would never sweep again
                log.exception("sweep failed")

    def _unseen(self, jobs: list[Job]) -> list[Job]:
        """The jobs no message names now (the broker is asked only if there are any)."""
        if not jobs:
            return []
        known = self._known_task_ids()
        return [job for job in jobs if job.job_id not in known]

    def _untouched(self, job: Job) -> bool:
        """Still queued as it was listed: no worker took it and no retry refreshed it since."""
        now = self._jobs.get(job.job_id)
        return now.state is JobState.QUEUED and now.updated_at == job.updated_at


class BrokerTaskIds:
    """The task ids of the messages kombu's Redis transport holds for ``queues``: waiting in each
    queue's list, or delivered and not acknowledged yet (the ``unacked`` hash, whose values are
    ``[message, exchange, routing_key]``). A Celery message names its task in ``headers.id``.
    The lists are read first: a taken message moves from a list to the hash."""

    def __init__(
        self,
        client: redis.Redis,
        queues: Sequence[str] = SWEPT_QUEUES,
        unacked_key: str = "unacked",
        page: int = 500,
    ) -> None:
        self._client = client
        self._queues = tuple(queues)
        self._unacked_key = unacked_key
        self._page = page

    def __call__(self) -> set[str]:
        try:
            messages = [message for queue in self._queues for message in self._waiting(queue)]
            for _, value in self._client.hscan_iter(self._unacked_key, count=self._page):
                held = _loads(value)  # [message, exchange, routing_key]
                messages.append(held[0] if isinstance(held, list) and held else None)
        except redis.RedisError as exc:
            raise DependencyUnavailable("job queue") from exc
        return {task_id for task_id in map(_task_id, messages) if task_id}

    def _waiting(self, queue: str) -> Iterator[object]:
        """A list read in pages from its head (kombu pushes there, workers pop the tail): a push
        shifts what is left to read, a pop only shortens it, so no message present throughout
        is skipped. Bounded by the length read once, plus a page for pushes meanwhile."""
        end = self._client.llen(queue) + self._page
        for start in range(0, end, self._page):
            page = self._client.lrange(queue, start, start + self._page - 1)
            yield from map(_loads, page)
            if len(page) < self._page:
                return


def _loads(raw: bytes | str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _task_id(message: object) -> str | None:
    """The message's task id; None for anything that is not a Celery message."""
    headers = message.get("headers") if isinstance(message, dict) else None
    task_id = headers.get("id") if isinstance(headers, dict) else None
    return task_id if isinstance(task_id, str) else None
