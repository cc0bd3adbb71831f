"""The variant task: a thin wrapper around the renderer, on the ``variants`` queue.

As for ingest: dependency outages retry with exponential backoff (the variant back to queued);
an image deleted meanwhile or an original that cannot make the variant fails at once with its
reason; anything else fails with a generic reason and a logged traceback.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from dependency_injector.wiring import Provide, inject

from ingestworker.container import Container
from ingestworker.service.variants import VariantRenderer
from ingestworker.tasks import failure_reason
from shared.errors import DependencyUnavailable
from shared.jobs import VARIANT_TASK
from shared.logging import get_logger

log = get_logger(__name__)


class VariantTask(Task):  # type: ignore[misc]
    @inject
    def on_retry(
        self,
        exc: Exception,
        task_id: str,
        args: Any,
        kwargs: dict[str, Any],
        einfo: Any,
        renderer: VariantRenderer = Provide[Container.variant_renderer],
    ) -> None:
        log.warning(
            "retrying", job_id=kwargs["job_id"], error=str(exc), retries=self.request.retries
        )
        try:
            renderer.retrying(kwargs["job_id"], kwargs["variant_id"], f"retrying: {exc}")
        except DependencyUnavailable:
            pass  # the catalog itself is the outage; the record catches up on the next attempt

    @inject
    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: Any,
        kwargs: dict[str, Any],
        einfo: Any,
        renderer: VariantRenderer = Provide[Container.variant_renderer],
    ) -> None:
        reason = failure_reason(exc, self.request.retries, "rendering the variant")
        log.error("job failed", job_id=kwargs["job_id"], reason=reason, error=type(exc).__name__)
        renderer.failed(kwargs["job_id"], kwargs["variant_id"], reason)


@shared_task(
    bind=True,
    base=VariantTask,
    name=VARIANT_TASK,
    acks_late=True,
    autoretry_for=(DependencyUnavailable,),
    retry_backoff=True,
    retry_jitter=True,
)
@inject
def render_variant(
    self: Task,
    job_id: str,
    image_id: str,
    variant_id: str,
    renderer: VariantRenderer = Provide[Container.variant_renderer],
) -> str:
    return renderer.render(job_id, image_id, variant_id).value
