"""The ingest pipeline for one image: staged bytes in, object + vector + catalog row out.

Idempotent by image id: a re-run (redelivery after a crash, a retry, a repair) overwrites the same
objects, upserts the same index row and replaces the same catalog row, keeping what the catalog
already knew (filename, ingest time, tags). Bytes land in MinIO before the vector lands in Milvus,
so a search hit always has its bytes; the catalog row and the job's `done` are written in one
transaction right after the index row; the staging object goes last, so a crash loses nothing.

The job does the work only it can do, on its own thread: it reads the staged bytes once, decodes
them (a large JPEG at a reduced scale: ``shared.imaging.decode_image``), makes the thumbnail and
the model's input, and lets the picture go. Only ``max_decoded`` jobs hold a decoded picture at
once, whatever the concurrency. What jobs running together share is batched: the forward pass
(``EmbeddingBatcher``), and the index and catalog writes with the staging deletes after them
(``WriteBatcher``). The original is copied from the staging object on the server; its bytes
never travel back.

Several jobs for the same new bytes (uploaded at once) share one staging object: it goes only
when no job of those bytes is still queued or processing, so none of them finds it gone midway.
The jobs that start together each index the image (the same rows, written again, once per write
batch); one that starts after another of them ended `done` (or after the staging object went)
ends `duplicate`. A repair, queued for an image catalogued long before, is not a duplicate: no
job of its bytes ended since it was queued.

A new image passes the compliance gate (``service.compliance``) after decoding and embedding,
before anything is written: a reject fails the job and keeps nothing, a quarantine keeps it out
of the library, held for an admin. The checks see the thumbnail's picture (the full one is gone
by then). A job with ``{"release": true}`` indexes a held image from its quarantine copy without
the checks (an admin decided). A catalogued image that is ingested again (a repair) is not
reviewed again: it was decided when it arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

import numpy as np
from PIL import Image

from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.compliance import ComplianceGate
from ingestworker.service.writes import WriteBatcher
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.compliance import Outcome, Subject
from shared.domain import (
    ImageRecord,
    Job,
    JobState,
    image_id_of,
    original_key,
    quarantine_key,
    staging_key,
    thumb_key,
)
from shared.errors import ImageNotFound, InvalidImage, ObjectNotFound
from shared.imaging import THUMB_SIZE, DecodedImage, ImageInfo, decode_image, shrunk, thumbnail_webp
from shared.intake import unstage
from shared.logging import get_logger
from shared.records import record_of
from shared.storage import ObjectStore

log = get_logger(__name__)
_FINISHED = (JobState.DONE, JobState.DUPLICATE, JobState.QUARANTINED)
Describe = Callable[[DecodedImage], ImageRecord]


@dataclass
class Prepared:
    """What a job keeps of its image once decoded: everything later steps need, no full picture."""

    record: ImageRecord  # its embedding comes later
    info: ImageInfo
    exif: dict[str, Any]
    preview: Image.Image  # the thumbnail's picture: what the compliance checks look at
    thumbnail: bytes
    pixels: np.ndarray  # the model's input


class IngestPipeline:
    def __init__(
        self,
        objects: ObjectStore,
        images: ImageCatalog,
        jobs: JobStore,
        embeds: EmbeddingBatcher,
        writes: WriteBatcher,
        gate: ComplianceGate,
        max_pixels: int,
        max_decoded: int,
    ) -> None:
        self._objects = objects
        self._images = images
        self._jobs = jobs
        self._embeds = embeds
        self._writes = writes
        self._gate = gate
        self._max_pixels = max_pixels
        self._decoding = threading.BoundedSemaphore(max_decoded)

    def process(self, job_id: str, image_id: str, filename: str) -> JobState:
        started = time.perf_counter()
        job = self._jobs.claim(job_id)
        if job.state in _FINISHED:  # delivered again after it finished (its ack was lost, or
            # its last step, the staging delete, failed): finish that step, keep the outcome
            log.info("already finished", job_id=job_id, state=job.state.value)
            self.let_go_of_staging(image_id)
            return job.state
        if job.params.get("release"):
            return self._release(job_id, image_id)
        known = self._known(image_id)
        if known is not None and self._jobs.done_since(image_id, job.created_at, job_id):
            return self._duplicate(job_id, image_id)  # uploaded twice, indexed by the other job
        data = self._staged_bytes(image_id)
        if data is None:
            return self._finished_elsewhere(job_id, image_id, known)
        state = self._ingest(job, image_id, filename, data, known)
        if state is JobState.DONE:
            ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("indexed", image_id=image_id, job_id=job_id, ms=ms)
        return state

    def _ingest(
        self, job: Job, image_id: str, filename: str, data: bytes, known: ImageRecord | None
    ) -> JobState:
        """The staged bytes of a claimed job, decoded, embedded, reviewed (when new), stored."""
        params = job.params
        source = str(params.get("source", "upload"))
        describe = partial(
            record_of,
            image_id,
            size=len(data),
            filename=filename,
            source=source,
            known=known,
            camera_id=params.get("camera_id"),
            captured_at=params.get("captured_at"),
        )
        prepared = self._prepare(data, describe)
        record = prepared.record
        record.embedding = self._embeds.embed_preprocessed(prepared.pixels)
        outcome = Outcome.PASS
        if known is None:
            subject = Subject(
                image_id,
                prepared.preview,
                prepared.info,
                prepared.exif,
                record.embedding,
                filename,
                source,
            )
            review = self._gate.review(subject, job.job_id)  # a reject raises: nothing is kept
            outcome, record.meta = review.outcome, {"exif": review.exif}
            record.tags = list(params.get("tags", []))
        if outcome is Outcome.QUARANTINE:
            self._gate.hold(record, data, prepared.info.mime, prepared.thumbnail, job.job_id)
            self.let_go_of_staging(image_id)
            return JobState.QUARANTINED
        try:  # the write batch lets go of the staged bytes
            self._publish(record, staging_key(image_id), prepared, job.job_id)
        except ObjectNotFound:  # the staging object went after it was read
            return self._finished_elsewhere(job.job_id, image_id, known)
        return JobState.DONE

    def let_go_of_staging(self, image_id: str) -> None:
        unstage(self._objects, self._jobs, image_id)

    @cached_property
    def _min_side(self) -> int:
        """The smallest picture that loses nothing: the model's input, and the thumbnail."""
        return max(self._embeds.input_size, THUMB_SIZE)

    def _prepare(self, data: bytes, describe: Describe) -> Prepared:
        """Decode, describe, thumbnail and preprocess while holding a decoding slot: the decoded
        picture lives only inside, so at most ``max_decoded`` exist at once."""
        with self._decoding:
            return self._decoded(data, describe)

    def _decoded(self, data: bytes, describe: Describe) -> Prepared:
        decoded = decode_image(data, self._max_pixels, self._min_side)
        preview = shrunk(decoded.image)
        pixels = self._embeds.preprocess(decoded.image)
        record = describe(decoded)
        return Prepared(
            record, decoded.info, decoded.exif, preview, thumbnail_webp(preview), pixels
        )

    def _publish(
        self, record: ImageRecord, source_key: str, prepared: Prepared, job_id: str
    ) -> None:
        """Bytes first, then the index row, then the catalog row with the job's `done`, then the
        staged bytes go (when no other job needs them)."""
        self._objects.copy(source_key, original_key(record.id), prepared.info.mime)
        self._objects.put(thumb_key(record.id), prepared.thumbnail, "image/webp")
        self._writes.write(record, job_id)

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
        describe = partial(
            record_of,
            image_id,
            size=len(data),
            filename=held.filename,
            source=held.source,
            known=held,
        )
        prepared = self._prepare(data, describe)
        prepared.record.embedding = self._embeds.embed_preprocessed(prepared.pixels)
        self._publish(prepared.record, quarantine_key(image_id), prepared, job_id)
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
        return self._duplicate(job_id, image_id)

    def _duplicate(self, job_id: str, image_id: str) -> JobState:
        self._jobs.set_state(job_id, JobState.DUPLICATE)
        self.let_go_of_staging(image_id)
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
