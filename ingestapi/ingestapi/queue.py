"""The queue of jobs: ingestapi's one way to hand work to the worker.

A producer-only Celery app sends the worker's tasks by name (``shared.jobs``): an image to
ingest on ``INGEST_QUEUE``, a variant to render on ``VARIANT_QUEUE``, a camera stream to capture
on ``CAPTURE_QUEUE``, so ingestapi never imports the worker. The Celery task id is the job id,
so a job record and its message name each other. Each message carries the id of the request
that queued it (``shared.logging``). A broker that does not answer is ``DependencyUnavailable``
(503).
"""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import OperationalError

from shared.errors import DependencyUnavailable
from shared.jobs import (
    CAPTURE_QUEUE,
    CAPTURE_TASK,
    INGEST_QUEUE,
    INGEST_TASK,
    VARIANT_QUEUE,
    VARIANT_TASK,
)
from shared.logging import REQUEST_ID_TASK_HEADER, current_request_id


class IngestQueue:
    def __init__(self, broker_url: str) -> None:
        self._celery = Celery("ingestapi", broker=broker_url, set_as_current=False)
        self._celery.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)

    def enqueue(self, job_id: str, image_id: str, filename: str) -> None:
        kwargs = {"job_id": job_id, "image_id": image_id, "filename": filename}
        self._send(INGEST_TASK, INGEST_QUEUE, kwargs)

    def enqueue_variant(self, job_id: str, image_id: str, variant_id: str) -> None:
        kwargs = {"job_id": job_id, "image_id": image_id, "variant_id": variant_id}
        self._send(VARIANT_TASK, VARIANT_QUEUE, kwargs)

    def enqueue_capture(self, capture_id: str) -> None:
        kwargs = {"job_id": capture_id, "capture_id": capture_id}
        self._send(CAPTURE_TASK, CAPTURE_QUEUE, kwargs)

    def _send(self, task: str, queue: str, kwargs: dict[str, str]) -> None:
        # the request that queued the job, so the worker's log lines for it carry its id too
        request_id = current_request_id()
        headers = {REQUEST_ID_TASK_HEADER: request_id} if request_id else None
        try:
            self._celery.send_task(
                task, kwargs=kwargs, task_id=kwargs["job_id"], queue=queue, headers=headers
            )
        except OperationalError as exc:
            raise DependencyUnavailable("job queue") from exc

    def close(self) -> None:
        self._celery.close()
