"""Index and catalog writes shared across jobs: one Milvus upsert and one catalog transaction for
every image that finished at about the same time (``service.batcher`` has the mechanism).

A job hands its record and its job id once its bytes are stored, and waits. The batch upserts
the index rows, then writes the catalog rows with every job's `done` in one transaction, then
lets go of the images' staged bytes (one catalog query, one delete request: ``shared.intake``),
so the order of one job (index row, catalog row and `done`, staging gone) holds for all; a
failure reaches every job of the batch, and each retries (every step is idempotent; a job that
is already `done` only lets go of its staging). Two jobs for the same image in one batch (its
bytes uploaded twice at once) write its rows once.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from ingestworker.service.batcher import Batcher
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import ImageRecord
from shared.intake import unstage
from shared.storage import ObjectStore
from shared.vectors import VectorStore

Write = tuple[ImageRecord, str]  # the record, its job's id


class WriteBatcher(Batcher[Write, None]):
    def __init__(
        self,
        vectors: VectorStore,
        images: ImageCatalog,
        jobs: JobStore,
        objects: ObjectStore,
        max_batch: int,
        max_wait_ms: int,
        registry: CollectorRegistry,
    ) -> None:
        super().__init__("write", max_batch, max_wait_ms, registry)
        self._vectors = vectors
        self._images = images
        self._jobs = jobs
        self._objects = objects

    def write(self, record: ImageRecord, job_id: str, timeout: float = 300) -> None:
        """Index and catalogue ``record``, record its job `done` and let go of its staged bytes
        (unless another job of them still runs); returns once all that landed."""
        self.submit((record, job_id), timeout)

    def _run_batch(self, items: list[Write]) -> list[None]:
        records = list({record.id: record for record, _ in items}.values())
        self._vectors.upsert(records)
        self._images.add(records, finished_jobs=[job_id for _, job_id in items])
        unstage(self._objects, self._jobs, *(record.id for record in records))
        return [None] * len(items)
