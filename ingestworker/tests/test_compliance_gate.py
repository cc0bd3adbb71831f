"""The compliance gate inside the pipeline, on the fakes and a real catalog: what a pass, a
reject and a quarantine leave behind, and what a release makes of a held image.

The colour fake's text tower makes "a red picture" the direction of red pixels, so a zero-shot
rule on it holds red pictures and passes green ones, as the tiny model does for "a red circle"
in tests/test_compliance_integration.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.compliance import ComplianceGate, build_checks
from ingestworker.service.pipeline import IngestPipeline
from ingestworker.service.writes import WriteBatcher
from shared.catalog.compliance import ComplianceCatalog
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import ComplianceCheckSettings
from shared.domain import (
    Job,
    JobState,
    image_id_of,
    original_key,
    quarantine_key,
    quarantine_thumb_key,
    staging_key,
    thumb_key,
)
from shared.errors import ImageNotFound, InvalidImage
from tests.support.fake_model import PALETTE, FakeEmbedder
from tests.support.fakes import FakeObjectStore, FakeVectorStore
from tests.support.images import encode, jpeg_with_exif, picture
from tests.support.local_catalog import FailableCatalog, sqlite_catalog

CHECKS = [
    {"name": "reds", "kind": "zero_shot", "prompts": ["a red picture"], "threshold": 0.8},
    {"name": "no-gif", "kind": "format_policy", "formats": ["png", "jpeg"]},
    {"name": "gps", "kind": "location", "policy": "coarsen"},
]


@dataclass
class Worker:
    pipeline: IngestPipeline
    objects: FakeObjectStore
    vectors: FakeVectorStore
    images: ImageCatalog
    held: ImageCatalog
    jobs: JobStore
    decisions: ComplianceCatalog

    def ingest(self, data: bytes, job_id: str, params: dict[str, Any] | None = None) -> str:
        """Stage ``data`` with a job as ingestapi does, and run the job; answers the image id."""
        image_id = image_id_of(data)
        self.objects.put(staging_key(image_id), data, "application/octet-stream")
        self.run(job_id, image_id, params or {"source": "upload", "tags": ["shapes"]})
        return image_id

    def run(self, job_id: str, image_id: str, params: dict[str, Any]) -> None:
        self.jobs.create(Job(job_id, JobState.QUEUED, image_id, "shape.png", params=params))
        self.pipeline.process(job_id, image_id, "shape.png")

    def keys(self) -> set[str]:
        return set(self.objects.objects)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    catalog: FailableCatalog = sqlite_catalog(tmp_path)
    embedder = FakeEmbedder()
    batcher = EmbeddingBatcher(embedder, max_batch=8, max_wait_ms=1, registry=CollectorRegistry())
    objects, vectors = FakeObjectStore(), FakeVectorStore()
    images, held, jobs = (
        ImageCatalog(catalog),
        ImageCatalog(catalog, QUARANTINED),
        JobStore(catalog),
    )
    decisions = ComplianceCatalog(catalog)
    checks = build_checks([ComplianceCheckSettings(**c) for c in CHECKS], embedder)  # type: ignore[arg-type]
    gate = ComplianceGate(checks, decisions, objects, held)
    writes = WriteBatcher(
        vectors, images, jobs, objects, max_batch=8, max_wait_ms=1, registry=CollectorRegistry()
    )
    pipeline = IngestPipeline(objects, images, jobs, batcher, writes, gate, 1_000_000, 8)
    yield Worker(pipeline, objects, vectors, images, held, jobs, decisions)
    batcher.stop()
    writes.stop()
    catalog.close()


def red() -> bytes:
    return encode(picture(80, 60, PALETTE["red"]), "PNG")


def test_an_image_every_check_passes_is_indexed_with_each_decision_recorded(
    worker: Worker,
) -> None:
    image_id = worker.ingest(encode(picture(80, 60, PALETTE["green"]), "PNG"), "j1")
    assert worker.jobs.get("j1").state is JobState.DONE
    assert worker.vectors.existing_ids([image_id]) == {image_id}
    history = worker.decisions.history([image_id])[image_id]
    assert [(d.check, d.outcome, d.job_id) for d in history] == [
        ("reds", "pass", "j1"),
        ("no-gif", "pass", "j1"),
        ("gps", "pass", "j1"),
    ]
    assert history[0].details["scores"]["a red picture"] < 0.8


def test_a_matching_image_is_held_in_quarantine_not_indexed(worker: Worker) -> None:
    image_id = worker.ingest(red(), "j1")
    assert worker.jobs.get("j1").state is JobState.QUARANTINED
    assert worker.keys() == {quarantine_key(image_id), quarantine_thumb_key(image_id)}
    assert worker.vectors.existing_ids([image_id]) == set()
    assert worker.images.count() == 0
    assert worker.held.get(image_id).tags == ["shapes"]
    [reds, *_] = worker.decisions.history([image_id])[image_id]
    assert (reds.outcome, reds.reason) == (
        "quarantine",
        "matches 'a red picture' (score 1.000 >= 0.8)",
    )


def test_a_rejected_image_fails_its_job_and_leaves_only_the_decision(worker: Worker) -> None:
    data = encode(picture(80, 60, PALETTE["green"]), "GIF")
    with pytest.raises(InvalidImage) as refused:
        worker.ingest(data, "j1")
    assert refused.value.detail.startswith("rejected by no-gif: gif images are not accepted")
    image_id = image_id_of(data)
    assert worker.keys() == {staging_key(image_id)}  # the task's failure handler deletes it
    assert (worker.images.count(), worker.held.count()) == (0, 0)
    assert worker.vectors.existing_ids([image_id]) == set()
    outcomes = [d.outcome for d in worker.decisions.history([image_id])[image_id]]
    assert outcomes == ["pass", "reject"]  # the checks after a reject do not run


def test_the_location_policy_coarsens_the_stored_gps_not_the_original(worker: Worker) -> None:
    data = jpeg_with_exif()  # a red picture: held, then released
    coarse = {"latitude": -33.86, "longitude": 151.21}
    image_id = worker.ingest(data, "j1")
    assert worker.held.get(image_id).meta["exif"]["gps"] == coarse
    worker.run("j2", image_id, {"release": True})
    assert worker.images.get(image_id).meta["exif"]["gps"] == coarse
    [indexed] = worker.vectors.get([image_id])
    assert indexed.meta["exif"]["gps"] == coarse
    assert worker.objects.objects[original_key(image_id)].data == data


def test_a_release_indexes_the_held_image_without_the_checks(worker: Worker) -> None:
    image_id = worker.ingest(red(), "j1")
    worker.run("j2", image_id, {"release": True})
    assert worker.jobs.get("j2").state is JobState.DONE
    assert worker.images.get(image_id).tags == ["shapes"]  # what the held row knew
    assert worker.vectors.existing_ids([image_id]) == {image_id}
    assert worker.keys() == {original_key(image_id), thumb_key(image_id)}
    with pytest.raises(ImageNotFound):
        worker.held.get(image_id)
    assert len(worker.decisions.history([image_id])[image_id]) == 3  # no new check decisions


def test_a_release_delivered_again_after_it_finished_ends_done(worker: Worker) -> None:
    image_id = worker.ingest(red(), "j1")
    worker.run("j2", image_id, {"release": True})
    worker.run("j3", image_id, {"release": True})
    assert worker.jobs.get("j3").state is JobState.DONE


def test_a_release_of_an_image_no_longer_held_fails(worker: Worker) -> None:
    with pytest.raises(InvalidImage, match="no longer in quarantine"):
        worker.run("j1", "f" * 64, {"release": True})


def test_a_second_upload_of_held_bytes_finished_by_the_first_ends_quarantined(
    worker: Worker,
) -> None:
    image_id = worker.ingest(red(), "j1")
    worker.run("j2", image_id, {"source": "upload", "tags": []})  # its staging already consumed
    assert worker.jobs.get("j2").state is JobState.QUARANTINED
