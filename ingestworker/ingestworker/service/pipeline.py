"""The ingest pipeline for one image: staged bytes in, object + vector + catalog row out.

Idempotent by image id: a re-run (redelivery after a crash, a retry, a repair) overwrites the same
objects, upserts the same index row and replaces the same catalog row, keeping what the catalog
already knew (filename, ingest time, tags). Bytes land in MinIO before the vector lands in Milvus,
so a search hit always has its bytes; the catalog row and the job's `done` are written in one
transaction right after the index row; the staging object goes last, so a crash loses nothing.
Several jobs for the same new bytes (uploaded at once) all end well: the first to finish consumes
the staging object, the others find the image catalogued and end `duplicate`.

A new image passes the compliance gate (``service.compliance``) after decoding and embedding,
before anything is written: a reject fails the job and keeps nothing, a quarantine keeps it out
of the library, held for an admin. A job with ``{"release": true}`` indexes a held image from its
quarantine copy without the checks (an admin decided). A catalogued image that is ingested
again (a repair) is not reviewed again: it was decided when it arrived.
"""

from __future__ import annotations

import time

from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.compliance import ComplianceGate, Review
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.compliance import Outcome, Subject
from shared.domain import ImageRecord, JobState, image_id_of, original_key, staging_key, thumb_key
from shared.errors import ImageNotFound, InvalidImage, ObjectNotFound
from shared.imaging import decode_image, make_thumbnail
from shared.logging import get_logger
from shared.records import record_of
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger(__name__)
_FINISHED = (JobState.DONE, JobState.DUPLICATE, JobState.QUARANTINED)


class IngestPipeline:
    def __init__(
        self,
        objects: ObjectStore,
        vectors: VectorStore,
        images: ImageCatalog,
        jobs: JobStore,
        batcher: EmbeddingBatcher,
        gate: ComplianceGate,
        max_pixels: int,
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._images = images
        self._jobs = jobs
        self._batcher = batcher
        self._gate = gate
        self._max_pixels = max_pixels

    def process(self, job_id: str, image_id: str, filename: str) -> JobState:
        started = time.perf_counter()
        job = self._jobs.get(job_id)
        if job.state in _FINISHED:  # delivered again after it finished (its ack was lost, or
            # its last step, the staging delete, failed): finish that step, keep the outcome
            log.info("already finished", job_id=job_id, state=job.state.value)
            if job.state is not JobState.DUPLICATE:  # a duplicate never took the staged bytes
                self._objects.delete(staging_key(image_id))
            return job.state
        self._jobs.set_state(job_id, JobState.PROCESSING)
        if job.params.get("release"):
            return self._release(job_id, image_id)
        known = self._known(image_id)
        data = self._staged_bytes(image_id)
        if data is None:
            return self._finished_elsewhere(job_id, image_id, known)
        decoded = decode_image(data, self._max_pixels)
        thumbnail = make_thumbnail(decoded.image)
        embedding = self._batcher.embed(decoded.image)
        source = str(job.params.get("source", "upload"))
        review = Review(Outcome.PASS, decoded.exif)
        if known is None:
            subject = Subject(
                image_id, decoded.image, decoded.info, decoded.exif, embedding, filename, source
            )
            review = self._gate.review(subject, job_id)  # a reject raises: nothing is kept
            decoded.exif = review.exif
        record = record_of(
            image_id,
            decoded,
            size=len(data),
            filename=filename,
            source=source,
            embedding=embedding,
            known=known,
            camera_id=job.params.get("camera_id"),
            captured_at=job.params.get("captured_at"),
        )
        if known is None:
            record.tags = list(job.params.get("tags", []))
        if review.outcome is Outcome.QUARANTINE:
            self._gate.hold(record, data, decoded.info.mime, thumbnail, job_id)
            self._objects.delete(staging_key(image_id))
            return JobState.QUARANTINED
        self._publish(record, data, decoded.info.mime, thumbnail, job_id)
        self._objects.delete(staging_key(image_id))
        log.info(
            "indexed",
            image_id=image_id,
            job_id=job_id,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return JobState.DONE

    def _publish(
        self, record: ImageRecord, data: bytes, mime: str, thumbnail: bytes, job_id: str
    ) -> None:
        """Bytes first, then the index row, then the catalog row with the job's `done`."""
        self._objects.put(original_key(record.id), data, mime)
        self._objects.put(thumb_key(record.id), thumbnail, "image/webp")
        self._vectors.upsert([record])
        self._images.add([record], finished_jobs=[job_id])

    def _release(self, job_id: str, image_id: str) -> JobState:
        """Index a held image from its quarantine copy; its catalog row keeps what it knew. A
        redelivery after the release finished finds the image indexed and ends `done`."""
        held = self._gate.held(image_id)
        if held is None:
            if self._known(image_id) is None:
                raise InvalidImage("the image is no longer in quarantine", "missing")
            self._jobs.set_state(job_id, JobState.DONE)
            return JobState.DONE
        data = self._gate.held_original(image_id)
        decoded = decode_image(data, self._max_pixels)
        embedding = self._batcher.embed(decoded.image)
        record = record_of(
            image_id,
            decoded,
            size=len(data),
            filename=held.filename,
            source=held.source,
            embedding=embedding,
            known=held,
        )
        self._publish(record, data, decoded.info.mime, make_thumbnail(decoded.image), job_id)
        self._gate.let_go(image_id)
        log.info("released", image_id=image_id, job_id=job_id)
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
        if self._gate.held(image_id) is not None:
            self._jobs.set_state(job_id, JobState.QUARANTINED)
            return JobState.QUARANTINED
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
