"""IngestService on in-memory fakes and the real catalog on a SQLite file.

What a call leaves behind is read back: staged bytes and their type, enqueued jobs and index rows
from the fakes, job records and image rows from the catalog.
"""

from __future__ import annotations

import numpy as np
import pytest

from ingestapi.service.ingest import IngestService
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import ImageLimits
from shared.domain import ImageRecord, JobState, image_id_of, staging_key
from shared.errors import DependencyUnavailable, InvalidInput
from shared.spool import ReceivedFile
from tests.support.fakes import Enqueued, FakeIngestQueue, FakeObjectStore, FakeVectorStore
from tests.support.images import encode, picture, truncated
from tests.support.local_catalog import FailableCatalog, recorded_jobs

MAX_BYTES = 100_000
MAX_PIXELS = 10_000
LIMITS = ImageLimits(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
UPLOADED = {"source": "upload", "tags": []}


@pytest.fixture
def service(
    objects: FakeObjectStore, images: ImageCatalog, jobs: JobStore, queue: FakeIngestQueue
) -> IngestService:
    return IngestService(objects=objects, images=images, jobs=jobs, queue=queue, limits=LIMITS)


def received(filename: str, data: bytes, max_bytes: int = MAX_BYTES) -> ReceivedFile:
    part = ReceivedFile(filename, max_bytes)
    part.write(data)
    part.rewind()
    return part


def png(colour: tuple[int, int, int] = (200, 30, 30), size: int = 40) -> bytes:
    return encode(picture(size, size, colour), "PNG")


def indexed(image_id: str) -> ImageRecord:
    return ImageRecord(
        image_id, 40, 40, 100, "PNG", "a.png", 1, embedding=np.ones(4, dtype=np.float32)
    )


def test_accepted_file_is_staged_with_its_sniffed_type_recorded_and_queued(
    service: IngestService,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
) -> None:
    data = png()
    [outcome] = service.ingest([received("holiday.jpg", data)])  # a PNG, whatever its name says
    image_id = image_id_of(data)
    assert (outcome.state, outcome.image_id, outcome.error) == ("queued", image_id, None)
    assert outcome.job_id is not None
    staged = objects.objects[staging_key(image_id)]
    assert (staged.data, staged.content_type) == (data, "image/png")
    [job] = recorded_jobs(catalog).values()
    assert (job.job_id, job.state, job.kind) == (outcome.job_id, JobState.QUEUED, "ingest")
    assert (job.image_id, job.filename, job.params) == (image_id, "holiday.jpg", UPLOADED)
    assert queue.enqueued == [Enqueued(outcome.job_id, image_id, "holiday.jpg")]


def test_source_and_normalised_tags_travel_in_the_job_for_the_worker(
    service: IngestService, jobs: JobStore
) -> None:
    [outcome] = service.ingest(
        [received("a.png", png())], "url", ["  Beach ", "beach", "Summer   Holiday", ""]
    )
    assert outcome.job_id is not None
    assert jobs.get(outcome.job_id).params == {"source": "url", "tags": ["beach", "summer holiday"]}


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        ("upload", ['say "cheese"']),
        ("upload", ["x" * 65]),
        ("upload", [f"tag {n}" for n in range(33)]),
        ("fax", []),
    ],
    ids=["quote-in-tag", "tag-too-long", "too-many-tags", "unknown-source"],
)
def test_bad_tags_or_source_refuse_the_request_before_anything_is_stored(
    service: IngestService,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    source: str,
    tags: list[str],
) -> None:
    with pytest.raises(InvalidInput):
        service.ingest([received("a.png", png())], source, tags)
    assert (objects.objects, recorded_jobs(catalog), queue.enqueued) == ({}, {}, [])


def test_each_accepted_file_gets_its_own_job_and_message(
    service: IngestService,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
) -> None:
    files = {f"{n}.png": png((n * 60, 0, 0)) for n in range(3)}
    outcomes = service.ingest([received(name, data) for name, data in files.items()])
    assert [o.state for o in outcomes] == ["queued"] * 3
    assert [(e.job_id, e.image_id, e.filename) for e in queue.enqueued] == [
        (o.job_id, image_id_of(files[o.filename]), o.filename) for o in outcomes
    ]
    assert set(recorded_jobs(catalog)) == {o.job_id for o in outcomes}
    assert set(objects.objects) == {staging_key(image_id_of(d)) for d in files.values()}


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("notes.png", b"plain text, not an image\n", "unsupported-media-type"),
        ("cut.png", truncated(png(size=80)), "corrupt-image"),
        ("empty.png", b"", "empty-file"),
        ("wide.png", png(size=101), "image-too-large"),  # 10,201 pixels: just over the cap
        ("huge.png", b"\x89PNG" + bytes(MAX_BYTES), "file-too-large"),
    ],
    ids=["not-an-image", "truncated", "empty", "over-pixel-cap", "over-byte-cap"],
)
def test_rejected_file_leaves_nothing_staged_recorded_or_queued(
    service: IngestService,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    filename: str,
    data: bytes,
    code: str,
) -> None:
    good = png((0, 0, 200))
    rejected, accepted = service.ingest([received(filename, data), received("good.png", good)])
    assert (rejected.state, rejected.job_id, rejected.image_id) == ("rejected", None, None)
    assert rejected.error is not None and rejected.error.code == code
    assert set(objects.objects) == {staging_key(image_id_of(good))}
    assert set(recorded_jobs(catalog)) == {accepted.job_id}
    assert [e.filename for e in queue.enqueued] == ["good.png"]


def test_image_at_exactly_the_pixel_cap_is_accepted(service: IngestService) -> None:
    [outcome] = service.ingest([received("square.png", png(size=100))])
    assert outcome.state == "queued"


def test_catalogued_image_is_a_duplicate_and_nothing_is_staged_or_queued(
    service: IngestService,
    objects: FakeObjectStore,
    images: ImageCatalog,
    jobs: JobStore,
    queue: FakeIngestQueue,
) -> None:
    data = png()
    images.add([indexed(image_id_of(data))])
    [outcome] = service.ingest([received("again.png", data)])
    assert (outcome.state, outcome.image_id) == ("duplicate", image_id_of(data))
    assert outcome.job_id is not None
    assert jobs.get(outcome.job_id).state == JobState.DUPLICATE
    assert objects.objects == {} and queue.enqueued == []


def test_an_indexed_image_the_catalog_lacks_is_ingested_again(
    service: IngestService, vectors: FakeVectorStore, queue: FakeIngestQueue
) -> None:
    """The catalog says which images exist; an index row alone (its row lost) is mended."""
    data = png()
    vectors.upsert([indexed(image_id_of(data))])
    [outcome] = service.ingest([received("again.png", data)])
    assert outcome.state == "queued"
    assert [e.image_id for e in queue.enqueued] == [image_id_of(data)]


def test_same_image_twice_in_one_request_is_queued_once(
    service: IngestService, objects: FakeObjectStore, queue: FakeIngestQueue
) -> None:
    data = png()
    first, second = service.ingest([received("a.png", data), received("b.png", data)])
    assert (first.state, second.state) == ("queued", "duplicate")
    assert first.image_id == second.image_id == image_id_of(data)
    assert [e.job_id for e in queue.enqueued] == [first.job_id]
    assert set(objects.objects) == {staging_key(image_id_of(data))}


def test_no_files_is_invalid_input(service: IngestService) -> None:
    with pytest.raises(InvalidInput, match="no files"):
        service.ingest([])


@pytest.mark.parametrize("down", ["objects", "catalog", "queue"])
def test_an_outage_while_accepting_leaves_no_staged_bytes_and_nothing_queued(
    service: IngestService,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    down: str,
) -> None:
    {"objects": objects, "catalog": catalog, "queue": queue}[down].outage()
    with pytest.raises(DependencyUnavailable):
        service.ingest([received("a.png", png())])
    assert objects.objects == {} and queue.enqueued == []


def test_a_job_that_cannot_be_recorded_takes_its_staged_bytes_back(
    objects: FakeObjectStore, images: ImageCatalog, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    """The catalog goes down after the dedup read: the job record is what fails."""
    job_catalog = FailableCatalog(catalog.settings)
    service = IngestService(objects, images, JobStore(job_catalog), queue, LIMITS)
    job_catalog.outage()
    with pytest.raises(DependencyUnavailable):
        service.ingest([received("a.png", png())])
    job_catalog.close()
    assert (objects.objects, recorded_jobs(catalog), queue.enqueued) == ({}, {}, [])


def test_a_job_the_queue_refused_is_forgotten_and_its_bytes_go(
    service: IngestService,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
) -> None:
    """The client is told 503 and sends the file again: no record of a job that never ran."""
    queue.outage()
    with pytest.raises(DependencyUnavailable):
        service.ingest([received("a.png", png())])
    assert (objects.objects, recorded_jobs(catalog)) == ({}, {})


def test_requeue_records_and_queues_a_job_for_bytes_already_staged(
    service: IngestService, jobs: JobStore, queue: FakeIngestQueue
) -> None:
    image_id = image_id_of(b"staged")
    outcome = service.requeue(image_id, "old.png", UPLOADED)
    assert outcome.job_id is not None
    job = jobs.get(outcome.job_id)
    assert (job.state, job.image_id, job.filename) == (JobState.QUEUED, image_id, "old.png")
    assert queue.enqueued == [Enqueued(outcome.job_id, image_id, "old.png")]
