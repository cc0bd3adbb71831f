"""The one way new bytes enter the ingest path: stage them, record their job, queue it.

Used by ingestapi (uploads, URLs, re-ingest) and by the worker (camera frames), so every image
meets the same dedup, metadata and embedding steps. The order makes a queued job trustworthy:
bytes are durable in MinIO before the job row exists, and the row exists before the message. If
recording or queueing fails, what was done is undone (the staged bytes go, and the row if the
message was not sent), and ``DependencyUnavailable`` tells the caller to send the bytes again.

Staged bytes are shared by every job of the same bytes (uploaded at once): ``unstage`` is how
anyone lets them go, the worker included.
"""

from __future__ import annotations

import uuid
from typing import IO, Any, Protocol

from shared.catalog.jobs import JobStore
from shared.domain import Job, JobState, staging_key
from shared.errors import DependencyUnavailable
from shared.logging import get_logger
from shared.storage import ObjectStore

log = get_logger(__name__)


def unstage(objects: ObjectStore, jobs: JobStore, *image_ids: str) -> None:
    """Delete the staged bytes of ``image_ids``, but not those another job of them still needs
    (queued or processing): the last one to end deletes them. One catalog query and one delete
    request for them all. With the catalog unreachable nobody can tell; they go, and a job that
    needed them fails with its reason."""
    try:
        busy = jobs.busy_image_ids(image_ids)
    except DependencyUnavailable:
        busy = set()
    objects.delete_many([staging_key(image_id) for image_id in image_ids if image_id not in busy])


class IngestQueue(Protocol):
    """Sends the worker's ingest task (``shared.jobs.INGEST_TASK``) for one job."""

    def enqueue(self, job_id: str, image_id: str, filename: str) -> None: ...


class Intake:
    def __init__(self, objects: ObjectStore, jobs: JobStore, queue: IngestQueue) -> None:
        self._objects = objects
        self._jobs = jobs
        self._queue = queue

    def accept(
        self,
        image_id: str,
        data: bytes | IO[bytes],
        mime: str,
        filename: str,
        params: dict[str, Any],
        length: int = -1,
        **facts: object,
    ) -> Job:
        """Stage the bytes of ``image_id``, then record and queue its job."""
        self._objects.put(staging_key(image_id), data, mime, length=length)
        return self.queue(image_id, filename, params, **facts)

    def queue(self, image_id: str, filename: str, params: dict[str, Any], **facts: object) -> Job:
        """A job for bytes already staged: recorded, then queued; ``facts`` go to the log."""
        job = Job(
            str(uuid.uuid4()), JobState.QUEUED, image_id=image_id, filename=filename, params=params
        )
        try:
            self._jobs.create(job)
        except DependencyUnavailable:
            unstage(self._objects, self._jobs, image_id)
            raise
        try:
            self._queue.enqueue(job.job_id, image_id, filename)
        except DependencyUnavailable:
            self._jobs.forget(job.job_id)
            unstage(self._objects, self._jobs, image_id)
            raise
        log.info("queued", image_id=image_id, job_id=job.job_id, **facts)
        return job
