"""The embedding batcher on the real tiny model: jobs that wait together share a forward pass."""

import threading

import numpy as np

from ingestworker.service.batcher import BATCH_SIZE, EmbeddingBatcher
from shared.config import ModelSettings
from shared.embedding import TINY_CHECKPOINT, TINY_MODEL, ClipEmbedder
from tests.support.images import picture


def _batches() -> float:
    return next(
        s.value for m in BATCH_SIZE.collect() for s in m.samples if s.name.endswith("_count")
    )


def test_concurrent_images_share_batches_and_get_their_own_vectors() -> None:
    embedder = ClipEmbedder(
        ModelSettings(name=TINY_MODEL, pretrained=str(TINY_CHECKPOINT), device="cpu")
    )
    images = [picture(64, 64, (i * 30, 255 - i * 30, 100)) for i in range(8)]
    alone = embedder.embed_images(images)
    batcher = EmbeddingBatcher(embedder, max_batch=32, max_wait_ms=500)
    results: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(images))

    def run(i: int) -> None:
        start.wait()
        results[i] = batcher.embed(images[i])

    before = _batches()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    batcher.stop()

    assert _batches() - before < len(images)  # fewer forward passes than images
    for i, vector in results.items():
        np.testing.assert_allclose(vector, alone[i], atol=1e-5)
    assert len(results) == len(images)


def test_a_lone_image_is_embedded() -> None:
    embedder = ClipEmbedder(
        ModelSettings(name=TINY_MODEL, pretrained=str(TINY_CHECKPOINT), device="cpu")
    )
    batcher = EmbeddingBatcher(embedder, max_batch=32, max_wait_ms=10)
    vector = batcher.embed(picture())
    batcher.stop()
    assert vector.shape == (embedder.identity.dim,)
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
