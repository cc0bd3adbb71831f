"""The work behind ``POST /api/v1/ingest/images/{id}/variants``: check, record, queue.

Everything that can refuse a request is checked before anything is written or queued: the id,
the image in the catalog, the variant's size against ``limits.max_pixels`` (from the catalog's
upright size, before anything decodes). The same parameters always name the same variant, so a
request for one that exists answers it without new work; a failed one is queued again. A
variant whose message could not be queued is marked failed (the client gets a 503), so the
next request queues it again instead of waiting on a job no worker will ever see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ingestapi.queue import IngestQueue
from shared.catalog.images import ImageCatalog
from shared.catalog.variants import Variant, VariantCatalog
from shared.config import ImageLimits
from shared.domain import check_image_id
from shared.errors import DependencyUnavailable, ImageSearchError
from shared.logging import get_logger
from shared.variants import VariantParams, canonical, check_output_size, variant_id_of

log = get_logger(__name__)
NOT_QUEUED = "the job queue was unavailable; ask for the variant again"


@dataclass(frozen=True)
class Requested:
    """The variant asked for, and whether this request queued a job to render it."""

    variant: Variant
    queued: bool


class VariantService:
    def __init__(
        self,
        images: ImageCatalog,
        variants: VariantCatalog,
        queue: IngestQueue,
        limits: ImageLimits,
    ) -> None:
        self._images = images
        self._variants = variants
        self._queue = queue
        self._limits = limits

    def request(self, image_id: str, params: VariantParams) -> Requested:
        image = self._images.get(check_image_id(image_id))
        size = check_output_size(params, image.width, image.height, self._limits.max_pixels)
        variant_id = variant_id_of(image_id, params)
        variant, queued = self._variants.create_or_get(
            variant_id, image_id, canonical(params), str(uuid.uuid4())
        )
        if queued:
            self._enqueue(variant)
            log.info("variant queued", image_id=image_id, variant_id=variant_id, size=size)
        return Requested(variant, queued)

    def _enqueue(self, variant: Variant) -> None:
        try:
            self._queue.enqueue_variant(variant.job_id, variant.image_id, variant.variant_id)
        except DependencyUnavailable:
            try:
                self._variants.fail(variant.variant_id, NOT_QUEUED)
            except ImageSearchError as exc:  # the catalog is down too: the row stays queued
                log.warning("variant left queued", variant_id=variant.variant_id, error=exc.code)
            raise
