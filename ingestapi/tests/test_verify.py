"""LibraryChecker: each kind of disagreement between the catalog, MinIO and the index is found,
confirmed before it is reported, and mended by ``repair``.

The catalog is the real one on a SQLite file, MinIO and Milvus in-memory fakes, and re-ingests
go through the real IngestService onto a fake queue; every check reads those stores back.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ingestapi.service.ingest import IngestService
from ingestapi.service.verify import REINGEST, LibraryChecker
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import ImageLimits
from shared.domain import (
    ImageRecord,
    Job,
    JobState,
    image_id_of,
    original_key,
    quarantine_key,
    quarantine_thumb_key,
    staging_key,
    thumb_key,
)
from shared.phash import perceptual_hash
from tests.support.fakes import Enqueued, FakeIngestQueue, FakeObjectStore, FakeVectorStore
from tests.support.images import encode, picture
from tests.support.local_catalog import FailableCatalog, recorded_jobs

LIMITS = ImageLimits(max_bytes=100_000, max_pixels=10_000)
# kind → where its image is found (catalog, index, original, thumb, staged; held: a quarantined
# row, held-original / held-thumb: its bytes in quarantine/); "unhashed": its catalog row has no
# perceptual hash
KINDS = {
    "index-without-bytes": {"catalog", "index", "thumb"},
    "catalog-without-bytes": {"catalog", "thumb"},
    "missing-thumbnail": {"catalog", "index", "original"},
    "missing-phash": {"catalog", "index", "original", "thumb", "unhashed"},
    "missing-index-row": {"catalog", "original", "thumb"},
    "missing-catalog-row": {"index", "original", "thumb"},
    "orphan-original": {"original"},
    "stranded-staging": {"staged"},
    "held-without-bytes": {"held", "held-thumb"},
    "orphan-held-bytes": {"held-original", "held-thumb"},
}
HEALTHY = {"catalog", "index", "original", "thumb"}
HELD = {"held", "held-original", "held-thumb"}  # a quarantined image, as the worker keeps it


class StaleListing(FakeObjectStore):
    """A listing taken just before a worker finished: it still shows staged bytes now gone."""

    def __init__(self) -> None:
        super().__init__()
        self.stale: set[str] = set()

    def keys(self, prefix: str) -> Iterator[str]:
        listed = set(super().keys(prefix)) | {k for k in self.stale if k.startswith(prefix)}
        yield from sorted(listed)


@dataclass
class Library:
    checker: LibraryChecker
    objects: StaleListing
    vectors: FakeVectorStore
    images: ImageCatalog
    held: ImageCatalog
    catalog: FailableCatalog
    queue: FakeIngestQueue

    def add(self, sides: set[str], colour: tuple[int, int, int] = (200, 0, 0)) -> str:
        """A picture present on exactly these ``sides``; answers its id."""
        image = picture(40, 30, colour)
        data = encode(image, "PNG")
        image_id = image_id_of(data)
        record = ImageRecord(
            image_id, 40, 30, len(data), "PNG", "first.png", 1_000, {"exif": {}}, np.ones(4)
        )
        record.phash = None if "unhashed" in sides else perceptual_hash(image)
        if "catalog" in sides:
            self.images.add([record])
        if "held" in sides:
            self.held.add([record])
        if "index" in sides:
            self.vectors.upsert([record])
        keys = {
            "original": original_key,
            "thumb": thumb_key,
            "staged": staging_key,
            "held-original": quarantine_key,
            "held-thumb": quarantine_thumb_key,
        }
        for side in sides & set(keys):
            self.objects.put(keys[side](image_id), data, "image/png")
        return image_id

    def state(self) -> tuple[Any, ...]:
        catalogued = {i for c in (self.images, self.held) for batch in c.ids() for i in batch}
        return dict(self.objects.objects), set(self.vectors.rows), catalogued, self.queue.enqueued


@pytest.fixture
def library(
    images: ImageCatalog, jobs: JobStore, vectors: FakeVectorStore, catalog: FailableCatalog
) -> Library:
    objects, queue = StaleListing(), FakeIngestQueue()
    ingest = IngestService(objects, images, jobs, queue, LIMITS)
    held = ImageCatalog(catalog, QUARANTINED)
    checker = LibraryChecker(images, jobs, objects, vectors, ingest.requeue, LIMITS, held)
    return Library(checker, objects, vectors, images, held, catalog, queue)


def found(library: Library, repair: bool = False) -> list[tuple[str, str, bool]]:
    return [(p.kind, p.image_id, p.repaired) for p in library.checker.verify(repair).problems]


def test_a_library_that_agrees_has_no_problems(library: Library) -> None:
    library.add(HEALTHY)
    library.add(HEALTHY, colour=(0, 0, 200))
    library.add(HELD, colour=(0, 200, 0))
    report = library.checker.verify(repair=True)
    assert (report.problems, report.unrepaired) == ([], 0)


def test_the_report_counts_what_each_side_holds(library: Library) -> None:
    nested = ["catalog", "index", "original", "thumb", "staged"]
    for n in range(1, len(nested) + 1):
        library.add(set(nested[:n]), colour=(n * 40, 0, 0))
    library.add(HELD, colour=(0, 200, 0))
    assert library.checker.verify(repair=False).counts == {
        "catalog": 5,
        "index": 4,
        "originals": 3,
        "thumbnails": 2,
        "staging": 1,
        "quarantined": 1,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_reported_once_and_nothing_changes_without_repair(
    library: Library, kind: str
) -> None:
    library.add(HEALTHY, colour=(0, 0, 200))  # a bystander, never reported
    image_id = library.add(KINDS[kind])
    before = library.state()
    report = library.checker.verify(repair=False)
    assert [(p.kind, p.image_id, p.repaired) for p in report.problems] == [(kind, image_id, False)]
    assert report.unrepaired == 1
    assert library.state() == before


@pytest.mark.parametrize("kind", KINDS)
def test_repair_mends_each_kind_so_the_next_check_finds_nothing(
    library: Library, kind: str
) -> None:
    image_id = library.add(KINDS[kind])
    report = library.checker.verify(repair=True)
    assert [(p.kind, p.image_id, p.repaired) for p in report.problems] == [(kind, image_id, True)]
    assert report.unrepaired == 0
    assert found(library) == []  # a re-ingest is left to the job it queued


@pytest.mark.parametrize("kind", ["index-without-bytes", "catalog-without-bytes"])
def test_repair_of_rows_without_bytes_drops_the_rows_and_the_thumbnail(
    library: Library, kind: str
) -> None:
    image_id = library.add(KINDS[kind])
    library.checker.verify(repair=True)
    assert library.state() == ({}, set(), set(), [])
    assert not library.objects.exists(thumb_key(image_id))


def test_repair_renders_a_missing_thumbnail_from_the_original(library: Library) -> None:
    image_id = library.add(KINDS["missing-thumbnail"])
    library.checker.verify(repair=True)
    thumb = library.objects.objects[thumb_key(image_id)]
    assert thumb.content_type == "image/webp"
    assert Image.open(io.BytesIO(thumb.data)).format == "WEBP"


def test_repair_computes_a_missing_perceptual_hash_from_the_original(library: Library) -> None:
    image_id = library.add(KINDS["missing-phash"])
    library.checker.verify(repair=True)
    upright = Image.open(io.BytesIO(library.objects.get(original_key(image_id))))
    assert library.images.get(image_id).phash == perceptual_hash(upright)


@pytest.mark.parametrize(
    ("kind", "filename"),
    [("missing-index-row", "first.png"), ("orphan-original", None)],
    ids=["catalogued: its name", "unknown: its id for a name"],
)
def test_repair_stages_the_original_again_and_queues_a_job(
    library: Library, kind: str, filename: str | None
) -> None:
    image_id = library.add(KINDS[kind])
    library.checker.verify(repair=True)
    assert library.objects.get(staging_key(image_id)) == library.objects.get(original_key(image_id))
    [job] = recorded_jobs(library.catalog).values()
    expected = filename or image_id
    assert (job.state, job.image_id, job.filename) == (JobState.QUEUED, image_id, expected)
    assert job.params == REINGEST
    assert library.queue.enqueued == [Enqueued(job.job_id, image_id, expected)]


def test_repair_catalogues_an_index_row_the_catalog_lacks(library: Library) -> None:
    image_id = library.add(KINDS["missing-catalog-row"])
    [indexed] = library.vectors.get([image_id], with_vectors=True)
    hashed, indexed.phash = indexed.phash, None  # Milvus keeps no hash: the original gives it
    library.vectors.upsert([indexed])
    library.checker.verify(repair=True)
    expected = dataclasses.replace(indexed, phash=hashed, embedding=None)
    assert library.images.get(image_id) == expected


def test_repair_queues_stranded_staged_bytes_no_job_finished(library: Library) -> None:
    image_id = library.add(KINDS["stranded-staging"])
    library.checker.verify(repair=True)
    assert [e.image_id for e in library.queue.enqueued] == [image_id]
    assert library.objects.exists(staging_key(image_id))  # the queued job needs them


def test_repair_drops_staged_bytes_of_an_image_already_done(library: Library) -> None:
    image_id = library.add(HEALTHY | {"staged"})
    assert found(library, repair=True) == [("stranded-staging", image_id, True)]
    assert not library.objects.exists(staging_key(image_id))
    assert library.queue.enqueued == []


def test_an_image_with_a_job_in_progress_is_left_to_that_job(
    library: Library, jobs: JobStore
) -> None:
    image_id = library.add({"staged", "original"})  # mid-ingest: original written, no rows yet
    jobs.create(Job("job-1", JobState.PROCESSING, image_id, "a.png"))
    assert found(library, repair=True) == []
    jobs.set_state("job-1", JobState.FAILED, "the worker gave up")
    assert found(library) == [("stranded-staging", image_id, False)]  # its re-ingest mends both


def test_a_problem_gone_by_the_time_it_is_confirmed_is_not_reported(library: Library) -> None:
    image_id = library.add(HEALTHY)
    library.objects.stale.add(staging_key(image_id))  # the worker consumed it after the listing
    report = library.checker.verify(repair=True)
    assert (report.counts["staging"], report.problems) == (1, [])
    assert library.queue.enqueued == []
