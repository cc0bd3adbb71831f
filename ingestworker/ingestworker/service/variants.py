"""Rendering one variant: the original's bytes in, ``variants/{id}/{variant_id}`` and a done
variant (and job) out.

Idempotent by variant id: a re-run renders the same bytes to the same key, and a variant already
done only finishes its job. An image deleted before or while its variant renders leaves nothing:
no row means no work, and an object written just before the row vanished is deleted again.
"""

from __future__ import annotations

import time

from shared.catalog.jobs import JobStore
from shared.catalog.variants import Variant, VariantCatalog, VariantState
from shared.domain import JobState, original_key, variant_key
from shared.errors import ImageNotFound, ObjectNotFound, VariantNotFound
from shared.logging import get_logger
from shared.storage import ObjectStore
from shared.variants import VariantParams, render

log = get_logger(__name__)
GONE = "the image was deleted before its variant was rendered"


class VariantRenderer:
    def __init__(
        self, objects: ObjectStore, variants: VariantCatalog, jobs: JobStore, max_pixels: int
    ) -> None:
        self._objects = objects
        self._variants = variants
        self._jobs = jobs
        self._max_pixels = max_pixels

    def render(self, job_id: str, image_id: str, variant_id: str) -> JobState:
        """Raises ``VariantNotFound``/``ImageNotFound`` when the image went away, an
        ``InvalidInput`` when the original cannot make this variant; the caller fails the job."""
        started = time.perf_counter()
        variant = self._variant(variant_id)
        if variant.state == VariantState.DONE:  # redelivered after it was stored
            self._jobs.set_state(job_id, JobState.DONE)
            return JobState.DONE
        self._variants.set_state(variant_id, VariantState.PROCESSING)
        try:
            original = self._objects.get(original_key(image_id))
        except ObjectNotFound as exc:
            raise ImageNotFound(GONE) from exc
        rendered = render(original, VariantParams.model_validate(variant.params), self._max_pixels)
        key = variant_key(image_id, variant_id)
        self._objects.put(key, rendered.data, rendered.mime)
        try:
            self._variants.finish(
                variant_id, rendered.mime, rendered.width, rendered.height, len(rendered.data)
            )
        except VariantNotFound:
            self._objects.delete(key)  # the image went while we rendered: keep nothing of it
            raise VariantNotFound(GONE) from None
        log.info(
            "variant rendered",
            image_id=image_id,
            variant_id=variant_id,
            job_id=job_id,
            bytes=len(rendered.data),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return JobState.DONE

    def retrying(self, job_id: str, variant_id: str, reason: str) -> None:
        """Back to queued while a dependency is out (the variant with its job)."""
        try:
            self._variants.set_state(variant_id, VariantState.QUEUED, reason)
        except VariantNotFound:
            self._jobs.set_state_if_busy(job_id, JobState.QUEUED, reason)

    def failed(self, job_id: str, variant_id: str, reason: str) -> None:
        """The variant failed (asking for it again re-queues it); its job records why. The job
        is written on its own too: when the variant row is gone, only the job is left to say so."""
        try:
            self._variants.fail(variant_id, reason)
        except VariantNotFound:
            pass
        self._jobs.set_state(job_id, JobState.FAILED, reason)

    def _variant(self, variant_id: str) -> Variant:
        try:
            return self._variants.get(variant_id)
        except VariantNotFound:
            raise VariantNotFound(GONE) from None
