"""The embedding batcher: jobs that wait together share a forward pass, each gets its own vector.

What is under test is the batching, not the model, so the embedder is the colour fake: each
picture below has its own colour, hence its own vector, so a vector handed to the wrong caller
shows.
"""

import threading

import numpy as np
import pytest
from PIL import Image
from prometheus_client import CollectorRegistry

from ingestworker.service.batcher import EmbeddingBatcher
from tests.support.fake_model import PALETTE, FakeEmbedder
from tests.support.images import picture


def test_concurrent_images_share_batches_and_get_their_own_vectors() -> None:
    embedder = FakeEmbedder()
    images = [picture(64, 64, colour) for colour in PALETTE.values()]
    alone = embedder.embed_images(images)
    assert len({row.tobytes() for row in alone}) == len(images)  # one vector per picture
    embedder.image_batches.clear()
    registry = CollectorRegistry()
    batcher = EmbeddingBatcher(embedder, max_batch=32, max_wait_ms=500, registry=registry)
    results: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(images))

    def run(i: int) -> None:
        start.wait()
        results[i] = batcher.embed(images[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    batcher.stop()

    assert len(embedder.image_batches) < len(images)  # fewer forward passes than images
    assert sum(embedder.image_batches) == len(images)
    assert registry.get_sample_value("embed_batch_size_count") == len(embedder.image_batches)
    assert registry.get_sample_value("embed_batch_size_sum") == len(images)
    assert sorted(results) == list(range(len(images)))
    for i, vector in results.items():
        np.testing.assert_array_equal(vector, alone[i])


def test_a_lone_image_is_embedded_without_waiting_for_company() -> None:
    embedder = FakeEmbedder()
    batcher = EmbeddingBatcher(embedder, max_batch=32, max_wait_ms=10, registry=CollectorRegistry())
    vector = batcher.embed(picture(), timeout=5)
    batcher.stop()
    assert embedder.image_batches == [1]
    np.testing.assert_array_equal(vector, embedder.embed_images([picture()])[0])


def test_an_embedder_failure_reaches_the_waiting_caller() -> None:
    class Broken(FakeEmbedder):
        def embed_images(self, images: list[Image.Image]) -> np.ndarray:
            raise RuntimeError("out of memory")

    batcher = EmbeddingBatcher(Broken(), max_batch=4, max_wait_ms=10, registry=CollectorRegistry())
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.embed(picture(), timeout=5)
    batcher.stop()
