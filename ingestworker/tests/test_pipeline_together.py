"""IngestPipeline with jobs running together, on the fakes and a real catalog: uploads of the same
bytes at once, and the bound on decoded pictures in memory whatever the concurrency.
"""

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import JobState, original_key, thumb_key
from tests.support.concurrency import at_once
from tests.support.fake_model import PALETTE, FakeEmbedder
from tests.support.fakes import FakeObjectStore
from tests.support.images import encode, picture
from tests.support.local_catalog import FailableCatalog
from tests.support.pipeline_worker import Worker, worker_on


def test_ten_jobs_of_the_same_new_bytes_at_once_all_end_well_with_one_of_everything(
    worker: Worker,
) -> None:
    """Ten uploads of one new picture, their jobs run together: none fails, the image has one
    index row, one catalog row and one original, and the shared staging object is gone."""
    data = encode(picture(90, 70, PALETTE["blue"]), "JPEG")
    job_ids = [f"upload-{i}" for i in range(10)]
    image_id = ""
    for job_id in job_ids:
        image_id = worker.stage(data, job_id=job_id)

    outcomes = at_once(len(job_ids), lambda i: worker.process(image_id, job_id=job_ids[i]))

    assert set(outcomes.values()) <= {JobState.DONE, JobState.DUPLICATE}, outcomes
    assert {worker.jobs.get(job_id).state for job_id in job_ids} <= {
        JobState.DONE,
        JobState.DUPLICATE,
    }
    assert list(worker.vectors.rows) == [image_id]
    assert worker.images.count() == 1
    assert sorted(worker.objects.objects) == [original_key(image_id), thumb_key(image_id)]


class CountingEmbedder(FakeEmbedder):
    """Counts the pictures being preprocessed at once: each job holds its decoded picture until
    its preprocessing is done. Preprocessing takes a while here, so jobs overlap in it."""

    def __init__(self) -> None:
        super().__init__()
        self._counting = threading.Lock()
        self.inside = 0
        self.most_at_once = 0

    def preprocess(self, image: Image.Image) -> np.ndarray:
        with self._counting:
            self.inside += 1
            self.most_at_once = max(self.most_at_once, self.inside)
        threading.Event().wait(0.05)  # the work of a real transform
        with self._counting:
            self.inside -= 1
        return super().preprocess(image)


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def bounded_worker(
    catalog: FailableCatalog, counting_embedder: CountingEmbedder
) -> Iterator[Worker]:
    objects, images, jobs = FakeObjectStore(), ImageCatalog(catalog), JobStore(catalog)
    yield from worker_on(objects, images, jobs, catalog, counting_embedder, max_decoded=2)


def test_never_more_pictures_decoded_at_once_than_max_decoded(
    bounded_worker: Worker, counting_embedder: CountingEmbedder
) -> None:
    colours = list(PALETTE.values())[:6]
    staged = [
        bounded_worker.stage(encode(picture(64, 48, colour), "PNG"), job_id=f"job-{i}")
        for i, colour in enumerate(colours)
    ]
    outcomes = at_once(len(staged), lambda i: bounded_worker.process(staged[i], job_id=f"job-{i}"))
    assert set(outcomes.values()) == {JobState.DONE}
    assert counting_embedder.most_at_once == 2  # they overlapped, up to the bound and no further
    assert len(bounded_worker.vectors.rows) == len(colours)
