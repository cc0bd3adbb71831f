"""IngestPipeline on the fakes: what one job leaves in object storage, the index and its job record.

The batcher is the real one, around the colour fake of the embedder; the stores are the fakes of
our ports, read back after each job (their state, never their calls).
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np
import pytest
from PIL import Image
from prometheus_client import CollectorRegistry

from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.pipeline import IngestPipeline
from shared.domain import Job, JobState, image_id_of, original_key, staging_key, thumb_key
from shared.errors import DependencyUnavailable, InvalidImage
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeJobStore, FakeObjectStore, FakeVectorStore
from tests.support.images import encode, marked_corner, marked_jpeg, picture, truncated

MAX_PIXELS = 1_000_000
JOB = "job-1"


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


@dataclass
class Worker:
    pipeline: IngestPipeline
    objects: FakeObjectStore
    vectors: FakeVectorStore
    jobs: FakeJobStore

    def stage(self, data: bytes, image_id: str | None = None) -> str:
        """Stage ``data`` as ingestapi does (under its id, unless told another) with a job."""
        image_id = image_id or image_id_of(data)
        self.objects.put(staging_key(image_id), data, "application/octet-stream")
        self.jobs.create(Job(JOB, JobState.QUEUED, image_id, "holiday.jpg"))
        return image_id

    def process(self, image_id: str) -> JobState:
        return self.pipeline.process(JOB, image_id, "holiday.jpg")


def worker_on(objects: FakeObjectStore) -> Iterator[Worker]:
    batcher = EmbeddingBatcher(
        FakeEmbedder(), max_batch=8, max_wait_ms=1, registry=CollectorRegistry()
    )
    vectors, jobs = FakeVectorStore(), FakeJobStore()
    yield Worker(
        IngestPipeline(objects, vectors, jobs, batcher, MAX_PIXELS), objects, vectors, jobs
    )
    batcher.stop()


@pytest.fixture
def worker() -> Iterator[Worker]:
    yield from worker_on(FakeObjectStore())


@pytest.fixture
def flaky_worker() -> Iterator[Worker]:
    yield from worker_on(ThumbnailOutage())


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_staged_image_is_stored_thumbnailed_and_indexed(
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
    [record] = worker.vectors.get([image_id], with_vectors=True)
    described = (record.width, record.height, record.bytes, record.format, record.filename)
    assert described == (80, 60, len(data), fmt, "holiday.jpg")
    assert record.meta["source"] == "upload"
    green = indexed_picture("green").embedding
    assert record.embedding is not None and float(np.dot(record.embedding, green)) > 0.95
    assert not worker.objects.exists(staging_key(image_id))
    assert worker.jobs.get(JOB).state == JobState.DONE


def test_exif_orientation_turns_the_record_and_the_thumbnail(worker: Worker) -> None:
    image_id = worker.stage(marked_jpeg(orientation=6, width=64, height=48))
    worker.process(image_id)
    [record] = worker.vectors.get([image_id])
    assert (record.width, record.height) == (48, 64)
    assert record.meta["exif"]["orientation"] == 6
    thumb = Image.open(io.BytesIO(worker.objects.get(thumb_key(image_id))))
    assert marked_corner(thumb) == "top-right"  # turned clockwise, as orientation 6 says


def test_already_indexed_image_is_a_duplicate_and_unstaged(worker: Worker) -> None:
    data = encode(picture(), "PNG")
    image_id = worker.stage(data)
    worker.process(image_id)
    worker.stage(data)
    stored_before = dict(worker.objects.objects)
    del stored_before[staging_key(image_id)]

    assert worker.process(image_id) == JobState.DUPLICATE
    assert worker.objects.objects == stored_before  # staging gone, nothing rewritten
    assert worker.jobs.get(JOB).state == JobState.DUPLICATE


def test_missing_staged_bytes_fail_the_job_as_invalid(worker: Worker) -> None:
    image_id = image_id_of(b"never staged")
    with pytest.raises(InvalidImage) as refused:
        worker.process(image_id)
    assert refused.value.code == "missing"
    assert worker.vectors.rows == {}


def test_staged_bytes_that_do_not_match_their_id_are_refused(worker: Worker) -> None:
    image_id = worker.stage(encode(picture(), "PNG"), image_id=image_id_of(b"other bytes"))
    with pytest.raises(InvalidImage, match="do not match"):
        worker.process(image_id)
    assert worker.vectors.rows == {}
    assert not worker.objects.exists(original_key(image_id))


def test_corrupt_image_is_refused_and_nothing_indexed(worker: Worker) -> None:
    image_id = worker.stage(truncated(encode(picture(200, 150), "JPEG", quality=95)))
    with pytest.raises(InvalidImage) as refused:
        worker.process(image_id)
    assert refused.value.code == "corrupt-image"
    assert worker.vectors.rows == {}
    assert list(worker.objects.keys("")) == [staging_key(image_id)]


def test_storage_outage_mid_job_keeps_the_staged_bytes_for_a_retry(flaky_worker: Worker) -> None:
    worker = flaky_worker
    image_id = worker.stage(encode(picture(), "PNG"))
    with pytest.raises(DependencyUnavailable):
        worker.process(image_id)
    assert worker.objects.objects[original_key(image_id)]  # it failed after the original landed
    assert worker.vectors.rows == {}
    assert worker.objects.objects[staging_key(image_id)]
    assert worker.jobs.get(JOB).state == JobState.PROCESSING

    assert worker.process(image_id) == JobState.DONE  # the retry, with storage back
    assert list(worker.vectors.rows) == [image_id]
    assert not worker.objects.exists(staging_key(image_id))
