"""The one task: a thin wrapper around the pipeline. Job states follow Celery's outcome.

Dependency outages (MinIO, Milvus, Redis unreachable) retry with exponential backoff; a bad image
fails at once with its reason; anything else fails with a generic reason and a logged traceback.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from dependency_injector.wiring import Provide, inject

from ingestworker.container import Container
from ingestworker.service.pipeline import IngestPipeline
from shared.catalog.jobs import JobStore
from shared.domain import JobState
from shared.errors import DependencyUnavailable, ImageSearchError, InvalidImage
from shared.jobs import INGEST_TASK
from shared.logging import get_logger

log = get_logger(__name__)


def failure_reason(exc: BaseException, retries: int, work: str) -> str:
    """What a failed job says: the outage that outlasted its retries, the image's own problem,
    or a generic reason (the traceback is logged, never answered)."""
    if isinstance(exc, DependencyUnavailable):
        return f"{exc.dependency} stayed unavailable after {retries} retries"
    if isinstance(exc, ImageSearchError):
        return exc.detail
    return f"internal error while {work}"


class IngestTask(Task):  # type: ignore[misc]
    @inject
    def on_retry(
        self,
        exc: Exception,
        task_id: str,
        args: Any,
        kwargs: dict[str, Any],
        einfo: Any,
        jobs: JobStore = Provide[Container.jobs],
    ) -> None:
        log.warning(
            "retrying", job_id=kwargs["job_id"], error=str(exc), retries=self.request.retries
        )
        try:
            jobs.set_state_if_busy(kwargs["job_id"], JobState.QUEUED, f"retrying: {exc}")
        except DependencyUnavailable:
            pass  # Redis itself is the outage; the record catches up on the next attempt

    @inject
    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: Any,
        kwargs: dict[str, Any],
        einfo: Any,
        jobs: JobStore = Provide[Container.jobs],
        pipeline: IngestPipeline = Provide[Container.pipeline],
    ) -> None:
        reason = failure_reason(exc, self.request.retries, "processing the image")
        log.error("job failed", job_id=kwargs["job_id"], reason=reason, error=type(exc).__name__)
        jobs.set_state_if_busy(kwargs["job_id"], JobState.FAILED, reason)
        if isinstance(exc, InvalidImage):  # nothing of a bad image stays, once no job needs it
            pipeline.let_go_of_staging(kwargs["image_id"])


@shared_task(
    bind=True,
    base=IngestTask,
    name=INGEST_TASK,
    acks_late=True,
    autoretry_for=(DependencyUnavailable,),
    retry_backoff=True,
    retry_jitter=True,
)
@inject
def process_image(
    self: Task,
    job_id: str,
    image_id: str,
    filename: str,
    pipeline: IngestPipeline = Provide[Container.pipeline],
) -> str:
    return pipeline.process(job_id, image_id, filename).value
