"""The work behind ``POST /api/v1/ingest``: validate each file, skip known images, stage, enqueue.

Each file gets its own outcome, so one bad file does not sink the others. Nothing is stored for a
rejected file; a file is reported ``queued`` only after its bytes are durable in MinIO and its
job is on the queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ingestapi.queue import IngestQueue
from shared.config import ImageLimits
from shared.domain import Job, JobState, staging_key
from shared.errors import DependencyUnavailable, InvalidImage, InvalidInput
from shared.imaging import ImageInfo, inspect_image
from shared.jobs import JobStore
from shared.logging import get_logger
from shared.spool import ReceivedFile
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger(__name__)
REJECTED = "rejected"


@dataclass
class Outcome:
    """What became of one file: ``queued``, ``duplicate``, or ``rejected`` with the reason."""

    filename: str
    state: str
    job_id: str | None = None
    image_id: str | None = None
    error: InvalidImage | None = None


class IngestService:
    def __init__(
        self,
        objects: ObjectStore,
        vectors: VectorStore,
        jobs: JobStore,
        queue: IngestQueue,
        limits: ImageLimits,
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._jobs = jobs
        self._queue = queue
        self._limits = limits

    def ingest(self, files: list[ReceivedFile]) -> list[Outcome]:
        if not files:
            raise InvalidInput("no files: send one or more multipart parts named `files`")
        checked = [self._check(part) for part in files]
        valid_ids = [
            part.digest
            for part, info in zip(files, checked, strict=True)
            if not isinstance(info, InvalidImage)
        ]
        known = self._vectors.existing_ids(valid_ids)
        outcomes = []
        seen: set[str] = set()
        for part, info in zip(files, checked, strict=True):
            if isinstance(info, InvalidImage):
                outcomes.append(Outcome(part.filename, REJECTED, error=info))
            elif part.digest in known or part.digest in seen:
                outcomes.append(self._duplicate(part))
            else:
                outcomes.append(self._accept(part, info))
            seen.add(part.digest)
        return outcomes

    def _check(self, part: ReceivedFile) -> ImageInfo | InvalidImage:
        try:
            part.check_size()
            return inspect_image(part.file, self._limits.max_pixels)
        except InvalidImage as exc:
            return exc

    def _duplicate(self, part: ReceivedFile) -> Outcome:
        job = Job(
            str(uuid.uuid4()), JobState.DUPLICATE, image_id=part.digest, filename=part.filename
        )
        self._jobs.create(job)
        log.info("duplicate", image_id=part.digest, job_id=job.job_id)
        return Outcome(part.filename, job.state.value, job.job_id, part.digest)

    def _accept(self, part: ReceivedFile, info: ImageInfo) -> Outcome:
        image_id = part.digest
        self._objects.put(staging_key(image_id), part.file, info.mime, length=part.size)
        job = Job(str(uuid.uuid4()), JobState.QUEUED, image_id=image_id, filename=part.filename)
        try:
            self._jobs.create(job)
            self._queue.enqueue(job.job_id, image_id, part.filename)
        except DependencyUnavailable:
            # No worker will ever take these bytes: the client is told 503 and sends them again.
            self._objects.delete(staging_key(image_id))
            raise
        log.info(
            "queued", image_id=image_id, job_id=job.job_id, bytes=part.size, format=info.format
        )
        return Outcome(part.filename, job.state.value, job.job_id, image_id)
