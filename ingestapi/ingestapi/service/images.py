"""Jobs and images after the upload: job status, and deleting an image everywhere."""

from __future__ import annotations

import uuid

from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import Job, check_image_id, original_key, staging_key, thumb_key
from shared.errors import ImageNotFound, InvalidInput
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
        self, objects: ObjectStore, vectors: VectorStore, images: ImageCatalog, jobs: JobStore
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._images = images
        self._jobs = jobs

    def job(self, job_id: str) -> Job:
        return self._jobs.get(check_job_id(job_id))

    def delete(self, image_id: str) -> None:
        """Remove the vector first (search stops showing it), then the catalog row, then the
        bytes: whatever step an outage interrupts, a retry finishes the job."""
        check_image_id(image_id)
        known = bool(self._images.existing_ids([image_id]))
        indexed = bool(self._vectors.existing_ids([image_id]))
        if not (known or indexed or self._objects.exists(original_key(image_id))):
            raise ImageNotFound(f"no image {image_id}")
        self._vectors.delete([image_id])
        self._images.delete(image_id)
        for key in (original_key(image_id), thumb_key(image_id), staging_key(image_id)):
            self._objects.delete(key)
        log.info("deleted", image_id=image_id)
