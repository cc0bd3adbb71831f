"""The work behind ``POST /api/v1/ingest``: validate each file, skip known images, stage, enqueue.

Each file gets its own outcome, so one bad file does not sink the others. Nothing is stored for a
rejected file; a file is reported ``queued`` only after its bytes are durable in MinIO and its
job is on the queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingestapi.queue import IngestQueue
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import ImageLimits
from shared.domain import Job, JobState, check_source, normalise_tags
from shared.errors import InvalidImage, InvalidInput
from shared.imaging import ImageInfo, inspect_image
from shared.intake import Intake
from shared.logging import get_logger
from shared.spool import ReceivedFile
from shared.storage import ObjectStore

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
        images: ImageCatalog,
        jobs: JobStore,
        queue: IngestQueue,
        limits: ImageLimits,
    ) -> None:
        self._images = images
        self._jobs = jobs
        self._intake = Intake(objects, jobs, queue)
        self._limits = limits

    def ingest(
        self, files: list[ReceivedFile], source: str = "upload", tags: Sequence[str] = ()
    ) -> list[Outcome]:
        """Each file's outcome; accepted files carry ``source`` and ``tags`` to their image."""
        if not files:
            raise InvalidInput("no files: send one or more multipart parts named `files`")
        params = {"source": check_source(source), "tags": normalise_tags(tags)}
        checked = [self._check(part) for part in files]
        valid_ids = [
            part.digest
            for part, info in zip(files, checked, strict=True)
            if not isinstance(info, InvalidImage)
        ]
        known = self._images.existing_ids(valid_ids)
        outcomes = []
        seen: set[str] = set()
        for part, info in zip(files, checked, strict=True):
            if isinstance(info, InvalidImage):
                outcomes.append(Outcome(part.filename, REJECTED, error=info))
            elif part.digest in known or part.digest in seen:
                outcomes.append(self._duplicate(part))
            else:
                outcomes.append(self._accept(part, info, params))
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

    def _accept(self, part: ReceivedFile, info: ImageInfo, params: dict[str, Any]) -> Outcome:
        job = self._intake.accept(
            part.digest,
            part.file,
            info.mime,
            part.filename,
            params,
            length=part.size,
            size=part.size,
            format=info.format,
        )
        return Outcome(part.filename, job.state.value, job.job_id, part.digest)

    def requeue(
        self, image_id: str, filename: str, params: dict[str, Any], **facts: object
    ) -> Outcome:
        """A job for bytes already staged: recorded, then queued. If either fails, the staged
        bytes go (no worker would take them) and the client is told 503, to send them again."""
        job = self._intake.queue(image_id, filename, params, **facts)
        return Outcome(filename, job.state.value, job.job_id, image_id)
