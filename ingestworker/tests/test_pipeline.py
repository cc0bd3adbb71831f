"""IngestPipeline on the fakes and a real catalog: what one job leaves in object storage, the index,
the catalog's image row and the job's record.

The batchers are the real ones, the embedding batcher around the colour fake of the embedder;
the object store and index are fakes of our ports, the catalog the real one on a SQLite file
(``tests.support.pipeline_worker``); all are read back after each job (their state, never their
calls). Jobs running together: test_pipeline_together.py.
"""

import io
from collections.abc import Iterator, Sequence
from typing import IO

import numpy as np
import pytest
from PIL import Image

from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import (
    ImageRecord,
    Job,
    JobState,
    image_id_of,
    original_key,
    staging_key,
    thumb_key,
)
from shared.errors import DependencyUnavailable, InvalidImage
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeObjectStore
from tests.support.images import encode, marked_corner, marked_jpeg, picture, truncated
from tests.support.local_catalog import FailableCatalog
from tests.support.pipeline_worker import JOB, UPLOADED, Worker, worker_on


class ThumbnailOutage(FakeObjectStore):
    """Object storage that is down once: for the first thumbnail, after its original landed."""

    def __init__(self) -> None:
        super().__init__()
        self.outages_left = 1

    def put(self, key: str, data: bytes | IO[bytes], content_type: str, length: int = -1) -> None:
        if key.startswith("thumbs/") and self.outages_left:
            self.outages_left -= 1
            raise DependencyUnavailable(self.dependency)
        super().put(key, data, content_type, length)


class CatalogWriteOutage(ImageCatalog):
    """The catalog down once: for the first image row, after the index row landed."""

    outages_left = 1

    def add(self, records: Sequence[ImageRecord], finished_jobs: Sequence[str] = ()) -> None:
        if self.outages_left:
            self.outages_left -= 1
            raise DependencyUnavailable("catalog database")
        super().add(records, finished_jobs)


class StagingDeleteOutage(FakeObjectStore):
    """Object storage that goes down once: as the staging object is deleted, the job's last
    step, after the job was recorded done."""

    def __init__(self) -> None:
        super().__init__()
        self.outages_left = 1

    def delete_many(self, keys: list[str]) -> None:
        if any(key.startswith("staging/") for key in keys) and self.outages_left:
            self.outages_left -= 1
            raise DependencyUnavailable(self.dependency)
        super().delete_many(keys)


@pytest.fixture
def flaky_worker(catalog: FailableCatalog) -> Iterator[Worker]:
    yield from worker_on(ThumbnailOutage(), ImageCatalog(catalog), JobStore(catalog), catalog)


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_staged_image_is_stored_thumbnailed_indexed_and_catalogued(
    worker: Worker, fmt: str, mime: str
) -> None:
    data = encode(picture(80, 60, PALETTE["green"]), fmt)
    image_id = worker.stage(data)

    assert worker.process(image_id) == JobState.DONE

    original = worker.objects.objects[original_key(image_id)]
    assert (original.data, original.content_type) == (data, mime)
    thumb = worker.objects.objects[thumb_key(image_id)]
    assert thumb.content_type == "image/webp"
    assert Image.open(io.BytesIO(thumb.data)).format == "WEBP"
    [indexed] = worker.vectors.get([image_id], with_vectors=True)
    described = (indexed.width, indexed.height, indexed.bytes, indexed.format, indexed.filename)
    assert described == (80, 60, len(data), fmt, "holiday.jpg")
    green = indexed_picture("green").embedding
    assert indexed.embedding is not None and float(np.dot(indexed.embedding, green)) > 0.95
    catalogued = worker.images.get(image_id)
    assert catalogued == ImageRecord(**{**vars(indexed), "embedding": None})
    assert (catalogued.source, catalogued.tags) == ("upload", [])
    assert not worker.objects.exists(staging_key(image_id))
    assert worker.jobs.get(JOB).state == JobState.DONE


def test_the_jobs_source_and_tags_go_to_the_index_row_and_the_catalog_row(worker: Worker) -> None:
    image_id = worker.stage(encode(picture(), "PNG"), params={"source": "url", "tags": ["beach"]})
    worker.process(image_id)
    [indexed] = worker.vectors.get([image_id])
    catalogued = worker.images.get(image_id)
    assert (
        (indexed.source, indexed.tags) == (catalogued.source, catalogued.tags) == ("url", ["beach"])
    )


def test_exif_orientation_turns_the_record_and_the_thumbnail(worker: Worker) -> None:
    image_id = worker.stage(marked_jpeg(orientation=6, width=64, height=48))
    worker.process(image_id)
    catalogued = worker.images.get(image_id)
    assert (catalogued.width, catalogued.height) == (48, 64)
    assert catalogued.meta["exif"]["orientation"] == 6
    thumb = Image.open(io.BytesIO(worker.objects.get(thumb_key(image_id))))
    assert marked_corner(thumb) == "top-right"  # turned clockwise, as orientation 6 says


def test_ingesting_a_catalogued_image_again_keeps_what_the_catalog_knew(worker: Worker) -> None:
    """A repair re-ingests an original: its first name, time, source and later tags stay."""
    data = encode(picture(), "PNG")
    first = worker.stage(data, job_id="first", params={"source": "url", "tags": ["old"]})
    worker.process(first, job_id="first")
    worker.images.set_tags(first, ["edited later"])
    known = worker.images.get(first)
    worker.vectors.delete([first])  # the index row was lost: verify queues the original again

    worker.stage(data, job_id="repair", params=UPLOADED)
    assert worker.process(first, job_id="repair") == JobState.DONE

    assert worker.images.get(first) == known
    [indexed] = worker.vectors.get([first])
    assert (indexed.source, indexed.tags, indexed.ingested_at) == (
        "url",
        ["edited later"],
        known.ingested_at,
    )


def test_second_job_for_bytes_another_job_finished_ends_duplicate(worker: Worker) -> None:
    """Two uploads of the same new bytes at once: one job indexes them, the other has no work."""
    data = encode(picture(), "PNG")
    image_id = worker.stage(data, job_id="first")
    worker.stage(data, job_id="second")
    assert worker.process(image_id, job_id="first") == JobState.DONE
    assert worker.objects.exists(staging_key(image_id))  # kept: the second job still needs it
    stored = dict(worker.objects.objects)
    catalogued = worker.images.get(image_id)

    assert worker.process(image_id, job_id="second") == JobState.DUPLICATE

    del stored[staging_key(image_id)]  # the last job of the bytes let it go
    assert worker.objects.objects == stored  # nothing rewritten
    assert worker.images.get(image_id) == catalogued
    assert worker.jobs.get("second").state == JobState.DUPLICATE
    assert worker.jobs.get("first").state == JobState.DONE


def test_missing_staged_bytes_of_an_unknown_image_fail_the_job_as_invalid(worker: Worker) -> None:
    image_id = image_id_of(b"never staged")
    worker.jobs.create(Job(JOB, JobState.QUEUED, image_id, "a.png"))
    with pytest.raises(InvalidImage) as refused:
        worker.process(image_id)
    assert refused.value.code == "missing"
    assert (worker.vectors.rows, worker.images.count()) == ({}, 0)


def test_staged_bytes_that_do_not_match_their_id_are_refused(worker: Worker) -> None:
    image_id = worker.stage(encode(picture(), "PNG"), image_id=image_id_of(b"other bytes"))
    with pytest.raises(InvalidImage, match="do not match"):
        worker.process(image_id)
    assert (worker.vectors.rows, worker.images.count()) == ({}, 0)
    assert not worker.objects.exists(original_key(image_id))


def test_corrupt_image_is_refused_and_nothing_indexed(worker: Worker) -> None:
    image_id = worker.stage(truncated(encode(picture(200, 150), "JPEG", quality=95)))
    with pytest.raises(InvalidImage) as refused:
        worker.process(image_id)
    assert refused.value.code == "corrupt-image"
    assert (worker.vectors.rows, worker.images.count()) == ({}, 0)
    assert list(worker.objects.keys("")) == [staging_key(image_id)]


def test_storage_outage_mid_job_keeps_the_staged_bytes_for_a_retry(flaky_worker: Worker) -> None:
    worker = flaky_worker
    image_id = worker.stage(encode(picture(), "PNG"))
    with pytest.raises(DependencyUnavailable):
        worker.process(image_id)
    assert worker.objects.objects[original_key(image_id)]  # it failed after the original landed
    assert (worker.vectors.rows, worker.images.count()) == ({}, 0)
    assert worker.objects.objects[staging_key(image_id)]
    assert worker.jobs.get(JOB).state == JobState.PROCESSING

    assert worker.process(image_id) == JobState.DONE  # the retry, with storage back
    assert list(worker.vectors.rows) == [image_id]
    assert worker.images.existing_ids([image_id]) == {image_id}
    assert not worker.objects.exists(staging_key(image_id))


def test_catalog_outage_after_indexing_leaves_the_job_unfinished_for_a_retry(
    catalog: FailableCatalog,
) -> None:
    """The row and the job's `done` are one write: neither lands without the other."""
    outage = CatalogWriteOutage(catalog)
    for worker in worker_on(FakeObjectStore(), outage, JobStore(catalog), catalog):
        image_id = worker.stage(encode(picture(), "PNG"))
        with pytest.raises(DependencyUnavailable):
            worker.process(image_id)
        assert list(worker.vectors.rows) == [image_id]
        assert worker.images.count() == 0
        assert worker.jobs.get(JOB).state == JobState.PROCESSING
        assert worker.objects.exists(staging_key(image_id))

        assert worker.process(image_id) == JobState.DONE
        assert worker.images.existing_ids([image_id]) == {image_id}
        assert not worker.objects.exists(staging_key(image_id))


def test_a_job_delivered_again_after_it_finished_stays_as_it_ended(worker: Worker) -> None:
    """A lost ack (the worker killed, the broker restarted) delivers a finished job again: the
    second run changes nothing, and the job does not turn from `done` into `duplicate`."""
    image_id = worker.stage(encode(picture(), "PNG"))
    assert worker.process(image_id) == JobState.DONE
    assert worker.process(image_id) == JobState.DONE
    assert worker.jobs.get(JOB).state == JobState.DONE
    assert len(worker.vectors.get([image_id])) == 1


def test_an_outage_on_the_last_step_leaves_the_job_done_when_it_runs_again(
    catalog: FailableCatalog,
) -> None:
    """The job was recorded done with its row, then the staging delete met an outage. The retry
    (its state not reopened: ``JobStore.set_state_if_busy``) keeps it `done` and deletes the
    staged bytes; before, it reopened the job and ended it `duplicate` (found by the soak)."""
    for worker in worker_on(
        StagingDeleteOutage(), ImageCatalog(catalog), JobStore(catalog), catalog
    ):
        image_id = worker.stage(encode(picture(), "PNG"))
        with pytest.raises(DependencyUnavailable):
            worker.process(image_id)
        assert worker.objects.exists(staging_key(image_id))
        worker.jobs.set_state_if_busy(JOB, JobState.QUEUED, "retrying: MinIO")  # what on_retry does
        assert worker.jobs.get(JOB).state == JobState.DONE
        assert worker.process(image_id) == JobState.DONE
        assert worker.jobs.get(JOB).state == JobState.DONE
        assert not worker.objects.exists(staging_key(image_id))


class SizeWatching(FakeEmbedder):
    """Remembers the size of each picture it was given to preprocess."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[tuple[int, int]] = []

    def preprocess(self, image: Image.Image) -> np.ndarray:
        self.sizes.append(image.size)
        return super().preprocess(image)


def test_a_large_jpeg_is_indexed_with_its_full_size_from_a_reduced_decode(
    catalog: FailableCatalog,
) -> None:
    embedder = SizeWatching()
    objects, images, jobs = FakeObjectStore(), ImageCatalog(catalog), JobStore(catalog)
    for worker in worker_on(objects, images, jobs, catalog, embedder):
        data = encode(picture(1152, 864, PALETTE["green"]), "JPEG", quality=90)  # < MAX_PIXELS
        image_id = worker.stage(data)

        assert worker.process(image_id) == JobState.DONE

        assert embedder.sizes == [(576, 432)]  # decoded at 1/2: still more than the thumbnail
        catalogued = worker.images.get(image_id)
        assert (catalogued.width, catalogued.height) == (1152, 864)
        original = worker.objects.objects[original_key(image_id)]
        assert (original.data, original.content_type) == (data, "image/jpeg")
        thumb = Image.open(io.BytesIO(worker.objects.get(thumb_key(image_id))))
        assert thumb.size == (256, 192)
        [indexed] = worker.vectors.get([image_id], with_vectors=True)
        green = indexed_picture("green").embedding
        assert indexed.embedding is not None and float(np.dot(indexed.embedding, green)) > 0.95


class StagingVanishes(FakeObjectStore):
    """The staged bytes are deleted by hand after the job read them, before it copies them."""

    def copy(self, source_key: str, key: str, content_type: str) -> None:
        self.delete(source_key)
        super().copy(source_key, key, content_type)


def test_staged_bytes_gone_before_the_copy_fail_the_job_and_nothing_is_indexed(
    catalog: FailableCatalog,
) -> None:
    for worker in worker_on(StagingVanishes(), ImageCatalog(catalog), JobStore(catalog), catalog):
        image_id = worker.stage(encode(picture(), "PNG"))
        with pytest.raises(InvalidImage) as refused:
            worker.process(image_id)
        assert refused.value.code == "missing"
        assert (worker.vectors.rows, worker.images.count()) == ({}, 0)
        assert not worker.objects.exists(original_key(image_id))
