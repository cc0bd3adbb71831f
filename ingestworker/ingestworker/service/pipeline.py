"""The ingest pipeline for one image: staged bytes in, object + vector + metadata out.

Idempotent by image id: a re-run (redelivery after a crash, a retry) overwrites the same
objects and upserts the same row. Bytes land in MinIO before the vector lands in Milvus, so a
search hit always has its bytes; the staging object goes last, so a crash loses nothing.
"""

from __future__ import annotations

import time

from ingestworker.service.batcher import EmbeddingBatcher
from shared.domain import JobState, image_id_of, original_key, staging_key, thumb_key
from shared.errors import InvalidImage, ObjectNotFound
from shared.imaging import decode_image, make_thumbnail
from shared.jobs import JobStore
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
        jobs: JobStore,
        batcher: EmbeddingBatcher,
        max_pixels: int,
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._jobs = jobs
        self._batcher = batcher
        self._max_pixels = max_pixels

    def process(self, job_id: str, image_id: str, filename: str) -> JobState:
        started = time.perf_counter()
        self._jobs.set_state(job_id, JobState.PROCESSING)
        if self._vectors.existing_ids([image_id]):
            self._objects.delete(staging_key(image_id))
            self._jobs.set_state(job_id, JobState.DUPLICATE)
            return JobState.DUPLICATE
        data = self._staged_bytes(image_id)
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
            source="upload",
            embedding=embedding,
        )
        self._vectors.upsert([record])
        self._objects.delete(staging_key(image_id))
        self._jobs.set_state(job_id, JobState.DONE)
        log.info(
            "indexed",
            image_id=image_id,
            job_id=job_id,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return JobState.DONE

    def _staged_bytes(self, image_id: str) -> bytes:
        try:
            data = self._objects.get(staging_key(image_id))
        except ObjectNotFound as exc:
            raise InvalidImage(
                "the uploaded bytes are no longer staged; upload again", "missing"
            ) from exc
        if image_id_of(data) != image_id:
            raise InvalidImage("the staged bytes do not match their image id", "corrupt-image")
        return data
