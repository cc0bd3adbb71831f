"""Cross-job embedding batches: jobs running together share one forward pass.

Each Celery task (one per image, on a thread of the worker) hands its decoded picture to the
batcher and waits. The batcher takes whatever is waiting, up to the model's batch size, waiting
at most ``max_wait_ms`` for more, so a lone image is never held back longer than that.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np
from PIL import Image
from prometheus_client import CollectorRegistry, Histogram

from shared.embedding import ClipEmbedder
from shared.logging import get_logger

log = get_logger(__name__)


class EmbeddingBatcher:
    def __init__(
        self,
        embedder: ClipEmbedder,
        max_batch: int,
        max_wait_ms: int,
        registry: CollectorRegistry,
    ) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000
        self._sizes = Histogram(
            "embed_batch_size",
            "images per forward pass",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=registry,
        )
        self._seconds = Histogram(
            "embed_batch_seconds", "seconds per forward pass", registry=registry
        )
        self._queue: queue.Queue[tuple[Image.Image, Future[np.ndarray]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def embed(self, image: Image.Image, timeout: float = 300) -> np.ndarray:
        self._ensure_started()
        future: Future[np.ndarray] = Future()
        self._queue.put((image, future))
        return future.result(timeout=timeout)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="embed-batcher", daemon=True)
                self._thread.start()

    def _collect(self) -> list[tuple[Image.Image, Future[np.ndarray]]] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self._max_wait
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=max(remaining, 0))
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            batch.append(item)
        return batch

    def _run(self) -> None:
        while (batch := self._collect()) is not None:
            started = time.perf_counter()
            try:
                vectors = self._embedder.embed_images([image for image, _ in batch])
            except Exception as exc:  # handed to every waiting job, which fails or retries
                for _, future in batch:
                    future.set_exception(exc)
                continue
            elapsed = time.perf_counter() - started
            self._sizes.observe(len(batch))
            self._seconds.observe(elapsed)
            log.debug("embedded batch", size=len(batch), ms=round(elapsed * 1000, 1))
            for (_, future), vector in zip(batch, vectors, strict=True):
                future.set_result(vector)
