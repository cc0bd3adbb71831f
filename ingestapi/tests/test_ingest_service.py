"""IngestService and ImageService on in-memory fakes of the stores and the queue (no servers).

What a call leaves behind is read from the fakes' contents: staged bytes and their type, job
records, enqueued jobs, index rows.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from ingestapi.service.images import ImageService
from ingestapi.service.ingest import IngestService
from shared.config import ImageLimits
from shared.domain import (
    ImageRecord,
    Job,
    JobState,
    image_id_of,
    original_key,
    staging_key,
    thumb_key,
)
from shared.errors import (
    DependencyUnavailable,
    ImageNotFound,
    InvalidInput,
    JobNotFound,
)
from shared.spool import ReceivedFile
from tests.support.fakes import (
    Enqueued,
    FakeIngestQueue,
    FakeJobStore,
    FakeObjectStore,
    FakeVectorStore,
)
from tests.support.images import encode, picture, truncated

MAX_BYTES = 100_000
MAX_PIXELS = 10_000


@pytest.fixture
def service(
    objects: FakeObjectStore, vectors: FakeVectorStore, jobs: FakeJobStore, queue: FakeIngestQueue
) -> IngestService:
    limits = ImageLimits(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    return IngestService(objects=objects, vectors=vectors, jobs=jobs, queue=queue, limits=limits)


@pytest.fixture
def images(objects: FakeObjectStore, vectors: FakeVectorStore, jobs: FakeJobStore) -> ImageService:
    return ImageService(objects=objects, vectors=vectors, jobs=jobs)


def received(filename: str, data: bytes, max_bytes: int = MAX_BYTES) -> ReceivedFile:
    part = ReceivedFile(filename, max_bytes)
    part.write(data)
    part.rewind()
    return part


def png(colour: tuple[int, int, int] = (200, 30, 30), size: int = 40) -> bytes:
    return encode(picture(size, size, colour), "PNG")


def indexed(image_id: str) -> ImageRecord:
    return ImageRecord(
        image_id, 40, 40, 100, "png", "a.png", 1, embedding=np.ones(4, dtype=np.float32)
    )


def test_accepted_file_is_staged_with_its_sniffed_type_and_queued(
    service: IngestService, objects: FakeObjectStore, jobs: FakeJobStore, queue: FakeIngestQueue
) -> None:
    data = png()
    [outcome] = service.ingest([received("holiday.jpg", data)])  # a PNG, whatever its name says
    image_id = image_id_of(data)
    assert (outcome.state, outcome.image_id, outcome.error) == ("queued", image_id, None)
    assert outcome.job_id is not None
    staged = objects.objects[staging_key(image_id)]
    assert (staged.data, staged.content_type) == (data, "image/png")
    job = jobs.get(outcome.job_id)
    assert (job.state, job.image_id, job.filename) == (JobState.QUEUED, image_id, "holiday.jpg")
    assert queue.enqueued == [Enqueued(outcome.job_id, image_id, "holiday.jpg")]


def test_each_accepted_file_gets_its_own_job_and_message(
    service: IngestService, objects: FakeObjectStore, jobs: FakeJobStore, queue: FakeIngestQueue
) -> None:
    files = {f"{n}.png": png((n * 60, 0, 0)) for n in range(3)}
    outcomes = service.ingest([received(name, data) for name, data in files.items()])
    assert [o.state for o in outcomes] == ["queued"] * 3
    assert [(e.job_id, e.image_id, e.filename) for e in queue.enqueued] == [
        (o.job_id, image_id_of(files[o.filename]), o.filename) for o in outcomes
    ]
    assert set(jobs.jobs) == {o.job_id for o in outcomes}
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
    jobs: FakeJobStore,
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
    assert set(jobs.jobs) == {accepted.job_id}
    assert [e.filename for e in queue.enqueued] == ["good.png"]


def test_image_at_exactly_the_pixel_cap_is_accepted(service: IngestService) -> None:
    [outcome] = service.ingest([received("square.png", png(size=100))])
    assert outcome.state == "queued"


def test_known_image_is_a_duplicate_and_nothing_is_staged_or_queued(
    service: IngestService,
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    jobs: FakeJobStore,
    queue: FakeIngestQueue,
) -> None:
    data = png()
    vectors.upsert([indexed(image_id_of(data))])
    [outcome] = service.ingest([received("again.png", data)])
    assert (outcome.state, outcome.image_id) == ("duplicate", image_id_of(data))
    assert outcome.job_id is not None
    assert jobs.get(outcome.job_id).state == JobState.DUPLICATE
    assert objects.objects == {} and queue.enqueued == []


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


@pytest.mark.parametrize("down", ["objects", "jobs", "queue"])
def test_an_outage_while_accepting_leaves_no_staged_bytes_and_nothing_queued(
    service: IngestService,
    objects: FakeObjectStore,
    jobs: FakeJobStore,
    queue: FakeIngestQueue,
    down: str,
) -> None:
    {"objects": objects, "jobs": jobs, "queue": queue}[down].outage()
    with pytest.raises(DependencyUnavailable):
        service.ingest([received("a.png", png())])
    assert objects.objects == {} and queue.enqueued == []


def test_job_status_of_a_known_job(images: ImageService, jobs: FakeJobStore) -> None:
    job_id = str(uuid.uuid4())
    jobs.create(Job(job_id, JobState.QUEUED, image_id="ab" * 32, filename="a.png"))
    found = images.job(job_id)
    assert (found.job_id, found.state, found.filename) == (job_id, JobState.QUEUED, "a.png")


def test_job_status_refuses_a_malformed_id_and_an_unknown_one(images: ImageService) -> None:
    with pytest.raises(InvalidInput):
        images.job("not-a-uuid")
    with pytest.raises(JobNotFound):
        images.job(str(uuid.uuid4()))


def _store_everywhere(image_id: str, objects: FakeObjectStore, vectors: FakeVectorStore) -> None:
    vectors.upsert([indexed(image_id)])
    for key in (original_key(image_id), thumb_key(image_id), staging_key(image_id)):
        objects.put(key, b"bytes", "application/octet-stream")


def test_delete_removes_the_row_the_original_the_thumbnail_and_staging(
    images: ImageService, objects: FakeObjectStore, vectors: FakeVectorStore
) -> None:
    gone, kept = image_id_of(b"gone"), image_id_of(b"kept")
    _store_everywhere(gone, objects, vectors)
    _store_everywhere(kept, objects, vectors)
    images.delete(gone)
    assert set(vectors.rows) == {kept}
    assert all(kept in key for key in objects.objects) and len(objects.objects) == 3


def test_delete_of_an_original_that_never_reached_the_index_removes_it(
    images: ImageService, objects: FakeObjectStore
) -> None:
    image_id = image_id_of(b"half")
    objects.put(original_key(image_id), b"half", "image/png")
    images.delete(image_id)
    assert objects.objects == {}


def test_delete_of_an_unknown_or_malformed_id_changes_nothing(
    images: ImageService, objects: FakeObjectStore, vectors: FakeVectorStore
) -> None:
    kept = image_id_of(b"kept")
    _store_everywhere(kept, objects, vectors)
    with pytest.raises(ImageNotFound):
        images.delete(image_id_of(b"never stored"))
    with pytest.raises(InvalidInput):
        images.delete("../" + kept)
    assert set(vectors.rows) == {kept} and len(objects.objects) == 3
