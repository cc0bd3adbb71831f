"""An ingest pipeline on the fakes and a real catalog, for the worker's tests: the real batchers
around the colour fake of the embedder, fake object store and index, no compliance checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.compliance import ComplianceGate
from ingestworker.service.pipeline import IngestPipeline
from ingestworker.service.writes import WriteBatcher
from shared.catalog.compliance import ComplianceCatalog
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import Job, JobState, image_id_of, staging_key
from tests.support.fake_model import FakeEmbedder
from tests.support.fakes import FakeObjectStore, FakeVectorStore
from tests.support.local_catalog import FailableCatalog

MAX_PIXELS = 1_000_000
JOB = "job-1"
UPLOADED: dict[str, Any] = {"source": "upload", "tags": []}


@dataclass
class Worker:
    pipeline: IngestPipeline
    objects: FakeObjectStore
    vectors: FakeVectorStore
    images: ImageCatalog
    jobs: JobStore

    def stage(
        self,
        data: bytes,
        image_id: str | None = None,
        job_id: str = JOB,
        params: dict[str, Any] = UPLOADED,
    ) -> str:
        """Stage ``data`` as ingestapi does (under its id, unless told another) with a job."""
        image_id = image_id or image_id_of(data)
        self.objects.put(staging_key(image_id), data, "application/octet-stream")
        self.jobs.create(Job(job_id, JobState.QUEUED, image_id, "holiday.jpg", params=params))
        return image_id

    def process(self, image_id: str, job_id: str = JOB) -> JobState:
        return self.pipeline.process(job_id, image_id, "holiday.jpg")


def worker_on(
    objects: FakeObjectStore,
    images: ImageCatalog,
    jobs: JobStore,
    catalog: FailableCatalog,
    embedder: FakeEmbedder | None = None,
    max_decoded: int = 8,
) -> Iterator[Worker]:
    registry = CollectorRegistry()
    batcher = EmbeddingBatcher(
        embedder or FakeEmbedder(), max_batch=8, max_wait_ms=1, registry=registry
    )
    vectors = FakeVectorStore()
    writes = WriteBatcher(
        vectors, images, jobs, objects, max_batch=64, max_wait_ms=1, registry=registry
    )
    held = ImageCatalog(catalog, QUARANTINED)
    gate = ComplianceGate([], ComplianceCatalog(catalog), objects, held)  # no checks configured
    pipeline = IngestPipeline(objects, images, jobs, batcher, writes, gate, MAX_PIXELS, max_decoded)
    yield Worker(pipeline, objects, vectors, images, jobs)
    batcher.stop()
    writes.stop()
