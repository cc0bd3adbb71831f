"""The queue of ingest jobs: ingestapi's one way to hand an image to the worker.

A producer-only Celery app sends the worker's task by name (``shared.jobs.INGEST_TASK``), so
ingestapi never imports the worker. The Celery task id is the job id, so a job record and its
message name each other. A broker that does not answer is ``DependencyUnavailable`` (503).
"""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import OperationalError

from shared.errors import DependencyUnavailable
from shared.jobs import INGEST_QUEUE, INGEST_TASK


class IngestQueue:
    def __init__(self, broker_url: str) -> None:
        self._celery = Celery("ingestapi", broker=broker_url, set_as_current=False)
        self._celery.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)

    def enqueue(self, job_id: str, image_id: str, filename: str) -> None:
        try:
            self._celery.send_task(
                INGEST_TASK,
                kwargs={"job_id": job_id, "image_id": image_id, "filename": filename},
                task_id=job_id,
                queue=INGEST_QUEUE,
            )
        except OperationalError as exc:
            raise DependencyUnavailable("job queue") from exc

    def close(self) -> None:
        self._celery.close()
