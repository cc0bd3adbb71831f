"""The ingest pipeline for one image: staged bytes in, object + vector + catalog row out.

Idempotent by image id: a re-run (redelivery after a crash, a retry, a repair) overwrites the same
objects, upserts the same index row and replaces the same catalog row, keeping what the catalog
already knew (filename, ingest time, tags). Bytes land in MinIO before the vector lands in Milvus,
so a search hit always has its bytes; the catalog row and the job's `done` are written in one
transaction right after the index row; the staging object goes last, so a crash loses nothing.
Several jobs for the same new bytes (uploaded at once) all end well: the first to finish consumes
the staging object, the others find the image catalogued and end `duplicate`.
"""

from __future__ import annotations

import time

from ingestworker.service.batcher import EmbeddingBatcher
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import ImageRecord, JobState, image_id_of, original_key, staging_key, thumb_key
from shared.errors import ImageNotFound, InvalidImage, ObjectNotFound
from shared.imaging import decode_image, make_thumbnail
from shared.logging import get_logger
from shared.records import record_of
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger(__name__)


class IngestPipeline:
    def __init__(
        self,
        objects: ObjectStore,
        vectors: VectorStore,
        images: ImageCatalog,
        jobs: JobStore,
        batcher: EmbeddingBatcher,
        max_pixels: int,
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._images = images
        self._jobs = jobs
        self._batcher = batcher
        self._max_pixels = max_pixels

    def process(self, job_id: str, image_id: str, filename: str) -> JobState:
        started = time.perf_counter()
        self._jobs.set_state(job_id, JobState.PROCESSING)
        job = self._jobs.get(job_id)
        known = self._known(image_id)
        data = self._staged_bytes(image_id)
        if data is None:
            return self._finished_elsewhere(job_id, image_id, known)
        decoded = decode_image(data, self._max_pixels)
        thumbnail = make_thumbnail(decoded.image)
        embedding = self._batcher.embed(decoded.image)
        self._objects.put(original_key(image_id), data, decoded.info.mime)
        self._objects.put(thumb_key(image_id), thumbnail, "image/webp")
        record = record_of(
            image_id,
            decoded,
            size=len(data),
            filename=filename,
            source=str(job.params.get("source", "upload")),
            embedding=embedding,
            known=known,
        )
        if known is None:
            record.tags = list(job.params.get("tags", []))
        self._vectors.upsert([record])
        self._images.add([record], finished_jobs=[job_id])
        self._objects.delete(staging_key(image_id))
        log.info(
            "indexed",
            image_id=image_id,
            job_id=job_id,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return JobState.DONE

    def _known(self, image_id: str) -> ImageRecord | None:
        try:
            return self._images.get(image_id)
        except ImageNotFound:
            return None

    def _finished_elsewhere(
        self, job_id: str, image_id: str, known: ImageRecord | None
    ) -> JobState:
        """No staged bytes: another job for the same bytes finished first, or they are lost."""
        if known is None and not self._images.existing_ids([image_id]):
            raise InvalidImage("the uploaded bytes are no longer staged; upload again", "missing")
        self._jobs.set_state(job_id, JobState.DUPLICATE)
        log.info("duplicate", image_id=image_id, job_id=job_id)
        return JobState.DUPLICATE

    def _staged_bytes(self, image_id: str) -> bytes | None:
        try:
            data = self._objects.get(staging_key(image_id))
        except ObjectNotFound:
            return None
        if image_id_of(data) != image_id:
            raise InvalidImage("the staged bytes do not match their image id", "corrupt-image")
        return data
