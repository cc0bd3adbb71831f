"""ImageService on in-memory fakes and the real catalog on a SQLite file: job status, and
deleting an image everywhere (index row, catalog row, original, thumbnail, staged bytes,
variants), announced to the byte servers once the bytes are gone.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import redis
import structlog.testing

from ingestapi.notices import DeletionNotices
from ingestapi.service.images import ImageService
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.catalog.variants import VariantCatalog
from shared.domain import (
    ImageRecord,
    Job,
    JobState,
    image_id_of,
    original_key,
    staging_key,
    thumb_key,
    variant_key,
)
from shared.errors import Conflict, ImageNotFound, InvalidInput, JobNotFound
from tests.support.fakes import FakeObjectStore, FakeVectorStore
from tests.support.local_catalog import FailableCatalog


class RecordedNotices:
    """The deletion notices port, as a list of (image id, object keys left when announced)."""

    def __init__(self, objects: FakeObjectStore) -> None:
        self._objects = objects
        self.announced: list[tuple[str, set[str]]] = []

    def announce(self, image_id: str) -> None:
        self.announced.append((image_id, set(self._objects.objects)))


@pytest.fixture
def notices(objects: FakeObjectStore) -> RecordedNotices:
    return RecordedNotices(objects)


@pytest.fixture
def image_service(
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    images: ImageCatalog,
    jobs: JobStore,
    notices: RecordedNotices,
) -> ImageService:
    return ImageService(
        objects=objects,
        vectors=vectors,
        images=images,
        jobs=jobs,
        notices=notices,
    )


def indexed(image_id: str) -> ImageRecord:
    return ImageRecord(
        image_id, 40, 40, 100, "PNG", "a.png", 1, embedding=np.ones(4, dtype=np.float32)
    )


def test_job_status_of_a_known_job(image_service: ImageService, jobs: JobStore) -> None:
    job_id = str(uuid.uuid4())
    jobs.create(Job(job_id, JobState.QUEUED, image_id="ab" * 32, filename="a.png"))
    found = image_service.job(job_id)
    assert (found.job_id, found.state, found.filename) == (job_id, JobState.QUEUED, "a.png")


def test_job_status_refuses_a_malformed_id_and_an_unknown_one(image_service: ImageService) -> None:
    with pytest.raises(InvalidInput):
        image_service.job("not-a-uuid")
    with pytest.raises(JobNotFound):
        image_service.job(str(uuid.uuid4()))


def _store_everywhere(
    image_id: str, objects: FakeObjectStore, vectors: FakeVectorStore, images: ImageCatalog
) -> None:
    vectors.upsert([indexed(image_id)])
    images.add([indexed(image_id)])
    for key in (original_key(image_id), thumb_key(image_id), staging_key(image_id)):
        objects.put(key, b"bytes", "application/octet-stream")


def test_delete_removes_the_row_the_original_the_thumbnail_and_staging(
    image_service: ImageService,
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    images: ImageCatalog,
) -> None:
    gone, kept = image_id_of(b"gone"), image_id_of(b"kept")
    _store_everywhere(gone, objects, vectors, images)
    _store_everywhere(kept, objects, vectors, images)
    image_service.delete(gone)
    assert set(vectors.rows) == {kept}
    assert images.existing_ids([gone, kept]) == {kept}
    assert all(kept in key for key in objects.objects) and len(objects.objects) == 3


@pytest.mark.parametrize("where", ["catalog", "originals"])
def test_delete_of_an_image_that_never_reached_the_index_removes_it(
    image_service: ImageService, objects: FakeObjectStore, images: ImageCatalog, where: str
) -> None:
    image_id = image_id_of(b"half")
    if where == "catalog":
        images.add([indexed(image_id)])
    else:
        objects.put(original_key(image_id), b"half", "image/png")
    image_service.delete(image_id)
    assert objects.objects == {} and images.count() == 0


def test_delete_of_an_unknown_or_malformed_id_changes_nothing(
    image_service: ImageService,
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    images: ImageCatalog,
) -> None:
    kept = image_id_of(b"kept")
    _store_everywhere(kept, objects, vectors, images)
    with pytest.raises(ImageNotFound):
        image_service.delete(image_id_of(b"never stored"))
    with pytest.raises(InvalidInput):
        image_service.delete("../" + kept)
    assert set(vectors.rows) == {kept} and len(objects.objects) == 3
    assert images.existing_ids([kept]) == {kept}


def test_delete_removes_the_variants_rows_and_objects_then_announces_it(
    image_service: ImageService,
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    images: ImageCatalog,
    catalog: FailableCatalog,
    notices: RecordedNotices,
) -> None:
    gone, kept = image_id_of(b"gone"), image_id_of(b"kept")
    _store_everywhere(gone, objects, vectors, images)
    _store_everywhere(kept, objects, vectors, images)
    variants, variant_of = VariantCatalog(catalog), {gone: "ab" * 32, kept: "cd" * 32}
    for image_id, variant_id in variant_of.items():
        variants.create_or_get(variant_id, image_id, {}, str(uuid.uuid4()))
        objects.put(variant_key(image_id, variant_id), b"variant", "image/webp")
    image_service.delete(gone)
    assert [v.image_id for v in variants.for_image(gone) + variants.for_image(kept)] == [kept]
    left = {original_key(kept), thumb_key(kept), staging_key(kept), variant_key(kept, "cd" * 32)}
    assert set(objects.objects) == left
    assert notices.announced == [(gone, left)]  # announced once the bytes were gone


def test_a_delete_refused_announces_nothing(
    image_service: ImageService, notices: RecordedNotices
) -> None:
    with pytest.raises(ImageNotFound):
        image_service.delete(image_id_of(b"never stored"))
    assert notices.announced == []


def test_a_deletion_notice_with_redis_down_is_logged_not_raised() -> None:
    unreachable = redis.Redis(port=1, socket_connect_timeout=1)  # port 1: refused at once
    with structlog.testing.capture_logs() as logged:
        DeletionNotices(unreachable).announce(image_id_of(b"gone"))
    [warning] = [entry for entry in logged if entry["log_level"] == "warning"]
    assert (warning["event"], warning["image_id"]) == (
        "deletion not announced",
        image_id_of(b"gone"),
    )


@pytest.mark.parametrize("state", [JobState.QUEUED, JobState.PROCESSING])
def test_delete_while_a_job_of_the_image_is_busy_is_a_conflict_and_deletes_nothing(
    image_service: ImageService,
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    images: ImageCatalog,
    jobs: JobStore,
    notices: RecordedNotices,
    state: JobState,
) -> None:
    image_id = image_id_of(b"being ingested again")
    _store_everywhere(image_id, objects, vectors, images)
    jobs.create(Job(str(uuid.uuid4()), state, image_id, "a.png"))
    with pytest.raises(Conflict):
        image_service.delete(image_id)
    assert set(vectors.rows) == {image_id} and len(objects.objects) == 3
    assert images.existing_ids([image_id]) == {image_id}
    assert notices.announced == []
