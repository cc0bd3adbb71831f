"""The batchers: jobs that wait together share one call, each gets its own answer, and a failure
of the call reaches every job that waited for it.

The embedding batcher is under test around the colour fake: each picture below has its own
colour, hence its own vector, so a vector handed to the wrong caller shows. The write batcher
has its own file (test_write_batcher.py).
"""

import threading
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image
from prometheus_client import CollectorRegistry

from ingestworker.service.batcher import Batcher, EmbeddingBatcher
from tests.support.concurrency import at_once
from tests.support.fake_model import PALETTE, FakeEmbedder
from tests.support.images import picture


class Doubling(Batcher[int, int]):
    """The simplest batch: doubles each item, remembering each batch it ran."""

    def __init__(self, max_batch: int, max_wait_ms: int, fail: bool = False) -> None:
        super().__init__("double", max_batch, max_wait_ms, CollectorRegistry())
        self.batches: list[list[int]] = []
        self.fail = fail

    def _run_batch(self, items: list[int]) -> Sequence[int]:
        self.batches.append(items)
        if self.fail:
            raise RuntimeError("the batch broke")
        return [2 * i for i in items]


def test_concurrent_images_share_batches_and_get_their_own_vectors() -> None:
    embedder = FakeEmbedder()
    images = [picture(64, 64, colour) for colour in PALETTE.values()]
    alone = embedder.embed_images(images)
    assert len({row.tobytes() for row in alone}) == len(images)  # one vector per picture
    embedder.image_batches.clear()
    registry = CollectorRegistry()
    batcher = EmbeddingBatcher(embedder, max_batch=32, max_wait_ms=500, registry=registry)

    results = at_once(len(images), lambda i: batcher.embed(images[i]))
    batcher.stop()

    assert len(embedder.image_batches) < len(images)  # fewer forward passes than images
    assert sum(embedder.image_batches) == len(images)
    assert registry.get_sample_value("embed_batch_size_count") == len(embedder.image_batches)
    assert registry.get_sample_value("embed_batch_size_sum") == len(images)
    assert sorted(results) == list(range(len(images)))
    for i, vector in results.items():
        np.testing.assert_array_equal(vector, alone[i])


def test_pictures_are_preprocessed_on_the_jobs_threads_not_the_batchers() -> None:
    class Watched(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.preprocessed_on: set[str] = set()

        def preprocess(self, image: Image.Image) -> np.ndarray:
            self.preprocessed_on.add(threading.current_thread().name)
            return super().preprocess(image)

    embedder = Watched()
    batcher = EmbeddingBatcher(embedder, max_batch=8, max_wait_ms=50, registry=CollectorRegistry())
    at_once(4, lambda i: batcher.embed(picture(32, 32, PALETTE["red"])))
    batcher.stop()
    assert len(embedder.preprocessed_on) == 4
    assert "embed-batcher" not in embedder.preprocessed_on


def test_a_lone_image_is_embedded_without_waiting_for_company() -> None:
    embedder = FakeEmbedder()
    batcher = EmbeddingBatcher(embedder, max_batch=32, max_wait_ms=10, registry=CollectorRegistry())
    vector = batcher.embed(picture(), timeout=5)
    batcher.stop()
    assert embedder.image_batches == [1]
    np.testing.assert_array_equal(vector, embedder.embed_images([picture()])[0])


def test_an_embedder_failure_reaches_the_waiting_caller() -> None:
    class Broken(FakeEmbedder):
        def embed_preprocessed(self, pixels: list[np.ndarray]) -> np.ndarray:
            raise RuntimeError("out of memory")

    batcher = EmbeddingBatcher(Broken(), max_batch=4, max_wait_ms=10, registry=CollectorRegistry())
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.embed(picture(), timeout=5)
    batcher.stop()


def test_a_batch_never_holds_more_than_its_size() -> None:
    batcher = Doubling(max_batch=3, max_wait_ms=200)
    results = at_once(7, batcher.submit)
    batcher.stop()
    assert results == {i: 2 * i for i in range(7)}
    assert max(len(batch) for batch in batcher.batches) == 3
    assert sorted(i for batch in batcher.batches for i in batch) == list(range(7))


def test_a_failed_batch_fails_every_caller_in_it_and_the_next_batch_runs() -> None:
    batcher = Doubling(max_batch=5, max_wait_ms=500, fail=True)
    results = at_once(5, batcher.submit)
    assert len(batcher.batches) == 1  # the five waited together
    assert all(isinstance(r, RuntimeError) for r in results.values())

    batcher.fail = False
    assert batcher.submit(21, timeout=5) == 42
    batcher.stop()
