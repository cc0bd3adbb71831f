"""The work behind ``POST /api/v1/ingest``: validate each file, skip known images, stage, enqueue.

Each file gets its own outcome, so one bad file does not sink the others. Nothing is stored for a
rejected file; a file is reported ``queued`` only after its bytes are durable in MinIO and its
job is on the queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from celery import Celery
from fastapi.concurrency import run_in_threadpool

from shared.domain import Job, JobState, staging_key
from shared.errors import FileTooLarge, InvalidImage, InvalidInput
from shared.imaging import ImageInfo, inspect_image
from shared.jobs import INGEST_QUEUE, INGEST_TASK, JobStore
from shared.logging import get_logger
from shared.storage import ObjectStore
from shared.uploads import ReceivedFile
from shared.vectors import VectorStore
from shared.web import problem_for

log = get_logger(__name__)
REJECTED = "rejected"


@dataclass
class Outcome:
    filename: str
    state: str
    job_id: str | None = None
    image_id: str | None = None
    problem: dict[str, Any] | None = None


class IngestService:
    def __init__(
        self,
        objects: ObjectStore,
        vectors: VectorStore,
        jobs: JobStore,
        celery: Celery,
        max_bytes: int,
        max_pixels: int,
    ) -> None:
        self._objects = objects
        self._vectors = vectors
        self._jobs = jobs
        self._celery = celery
        self._max_bytes = max_bytes
        self._max_pixels = max_pixels

    async def ingest(self, files: list[ReceivedFile]) -> list[Outcome]:
        if not files:
            raise InvalidInput("no files: send one or more multipart parts named `files`")
        checked = [await self._check(part) for part in files]
        valid_ids = [part.digest for part, info in zip(files, checked, strict=True) if info]
        known = await run_in_threadpool(self._vectors.existing_ids, valid_ids)
        outcomes = []
        seen: set[str] = set()
        for part, info in zip(files, checked, strict=True):
            if isinstance(info, InvalidImage):
                outcomes.append(Outcome(part.filename, REJECTED, problem=problem_for(info)))
            elif part.digest in known or part.digest in seen:
                outcomes.append(await run_in_threadpool(self._duplicate, part))
            else:
                outcomes.append(await run_in_threadpool(self._accept, part, info))
            seen.add(part.digest)
        return outcomes

    async def _check(self, part: ReceivedFile) -> ImageInfo | InvalidImage:
        if part.too_large:
            return FileTooLarge(f"{part.filename} is larger than the {self._max_bytes} byte limit")
        try:
            return await run_in_threadpool(inspect_image, part.file, self._max_pixels)
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
        self._jobs.create(job)
        self._celery.send_task(
            INGEST_TASK,
            kwargs={"job_id": job.job_id, "image_id": image_id, "filename": part.filename},
            task_id=job.job_id,
            queue=INGEST_QUEUE,
        )
        log.info(
            "queued", image_id=image_id, job_id=job.job_id, bytes=part.size, format=info.format
        )
        return Outcome(part.filename, job.state.value, job.job_id, image_id)
