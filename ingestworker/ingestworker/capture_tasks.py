"""The capture task: a thin wrapper around ``CaptureService``, on the ``capture`` queue.

A capture that finds every stream slot held goes back to the queue with a countdown instead of
holding a worker thread while it waits (the threads also serve ingest): it tries again every
``SLOT_RETRY_S`` seconds for up to ``SLOT_WAIT_S``, then fails with "too many concurrent
streams". It stays ``queued`` meanwhile, so a cancel ends it at once. A capture is not retried
on errors: the moment a stream shows passes, so one that broke fails with its reason (a
dependency outage by name, anything else generically, the traceback logged without the URL).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from dependency_injector.wiring import Provide, inject

from ingestworker.container import Container
from ingestworker.service.capture import CaptureService, NoStreamSlot
from shared.cameras import CaptureState
from shared.catalog.cameras import CaptureCatalog
from shared.errors import DependencyUnavailable, ImageSearchError
from shared.jobs import CAPTURE_TASK
from shared.logging import get_logger

log = get_logger(__name__)
SLOT_RETRY_S = 5
SLOT_WAIT_S = 300
TOO_MANY_STREAMS = "too many concurrent streams (cameras.max_streams); try again later"


def capture_failure(exc: BaseException) -> str:
    """What a capture that failed outside the stream says (the traceback is logged)."""
    if isinstance(exc, NoStreamSlot):
        return TOO_MANY_STREAMS
    if isinstance(exc, DependencyUnavailable):
        return f"{exc.dependency} was unavailable"
    if isinstance(exc, ImageSearchError):
        return exc.detail
    return "internal error while capturing the stream"


class CaptureTask(Task):  # type: ignore[misc]
    @inject
    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: Any,
        kwargs: dict[str, Any],
        einfo: Any,
        captures: CaptureCatalog = Provide[Container.captures],
    ) -> None:
        reason = capture_failure(exc)
        log.error("capture failed", capture_id=kwargs["capture_id"], reason=reason)
        captures.finish(kwargs["capture_id"], CaptureState.FAILED, reason)


@shared_task(bind=True, base=CaptureTask, name=CAPTURE_TASK, acks_late=True)
@inject
def capture_stream(
    self: Task,
    job_id: str,
    capture_id: str,
    capture: CaptureService = Provide[Container.capture],
) -> str:
    try:
        return capture.run(capture_id).value
    except NoStreamSlot as exc:
        log.info("waiting for a stream slot", capture_id=capture_id, retries=self.request.retries)
        raise self.retry(
            exc=exc, countdown=SLOT_RETRY_S, max_retries=SLOT_WAIT_S // SLOT_RETRY_S
        ) from None
