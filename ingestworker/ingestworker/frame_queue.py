"""How the worker queues the ingest of a camera frame: the task, queue and arguments ingestapi
sends for an upload (``shared.jobs``), from a producer-only Celery app of its own, so a frame
meets the same pipeline as any image. The Celery task id is the job id. The sweeper sends a lost
job's task again through ``send`` (``service.sweeper``)."""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import OperationalError

from shared.errors import DependencyUnavailable
from shared.jobs import INGEST_QUEUE, INGEST_TASK


class FrameQueue:
    def __init__(self, broker_url: str) -> None:
        self._celery = Celery("ingestworker-frames", broker=broker_url, set_as_current=False)
        self._celery.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)

    def enqueue(self, job_id: str, image_id: str, filename: str) -> None:
        kwargs = {"job_id": job_id, "image_id": image_id, "filename": filename}
        self.send(INGEST_TASK, INGEST_QUEUE, kwargs)

    def send(self, task: str, queue: str, kwargs: dict[str, str]) -> None:
        try:
            self._celery.send_task(task, kwargs=kwargs, task_id=kwargs["job_id"], queue=queue)
        except OperationalError as exc:
            raise DependencyUnavailable("job queue") from exc
