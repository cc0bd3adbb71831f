"""Jobs and images after the upload: job status, and deleting an image everywhere (its
variants included), then telling the byte servers it is gone."""

from __future__ import annotations

import uuid

from ingestapi.notices import DeletionNotices
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import (
    Job,
    check_image_id,
    original_key,
    staging_key,
    thumb_key,
    variants_prefix,
)
from shared.errors import Conflict, ImageNotFound, InvalidInput
from shared.logging import get_logger
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger(__name__)


def check_job_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidInput("a job id is a UUID, as returned by POST /api/v1/ingest") from exc


class ImageService:
    def __init__(
        self,
        objects: ObjectStore,
        vectors: VectorStore,
        images: ImageCatalog,
        jobs: JobStore,
        notices: DeletionNotices,
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._images = images
        self._jobs = jobs
        self._notices = notices

    def job(self, job_id: str) -> Job:
        return self._jobs.get(check_job_id(job_id))

    def delete(self, image_id: str) -> None:
        """Remove the vector first (search stops showing it), then the catalog row (its
        variants' rows go with it), then the bytes, the original last: whatever step an outage
        interrupts, a retry finds the image and finishes the job. Then the byte servers are told.
        While an ingest job of the image is queued or processing, nothing is deleted and the
        answer is ``Conflict``: that job would index the image again right after."""
        check_image_id(image_id)
        if self._jobs.busy_image_ids([image_id]):
            raise Conflict(f"image {image_id} is being ingested; delete it once its job ended")
        known = bool(self._images.existing_ids([image_id]))
        indexed = bool(self._vectors.existing_ids([image_id]))
        if not (known or indexed or self._objects.exists(original_key(image_id))):
            raise ImageNotFound(f"no image {image_id}")
        self._vectors.delete([image_id])
        self._images.delete(image_id)
        variants = list(self._objects.keys(variants_prefix(image_id)))
        for key in (*variants, staging_key(image_id), thumb_key(image_id), original_key(image_id)):
            self._objects.delete(key)
        log.info("deleted", image_id=image_id, variants=len(variants))
        self._notices.announce(image_id)
