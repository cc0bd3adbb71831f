"""Cross-job batches: jobs running together share one call, each waits for its own answer.

Each Celery task (one per image, on a thread of the worker) hands its item to a batcher and
waits. The batcher's thread takes whatever is waiting, up to ``max_batch``, waiting at most
``max_wait_ms`` for more, so a lone item is never held back longer than that; a failure of the
call reaches every job of the batch. ``Batcher`` is the mechanism; ``EmbeddingBatcher`` (one
forward pass for many pictures) is one use, ``service.writes.WriteBatcher`` (one index upsert
and one catalog write for many images) the other. Each has its ``<name>_batch_size`` and
``<name>_batch_seconds`` histograms.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

import numpy as np
from PIL import Image
from prometheus_client import CollectorRegistry, Histogram

from shared.embedding import ClipEmbedder
from shared.logging import get_logger

log = get_logger(__name__)
Item = TypeVar("Item")
Answer = TypeVar("Answer")
_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Batcher(ABC, Generic[Item, Answer]):
    """Collects items from many threads into batches for ``_run_batch``, which answers each."""

    def __init__(
        self, name: str, max_batch: int, max_wait_ms: int, registry: CollectorRegistry
    ) -> None:
        self._name = name
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000
        self._sizes = Histogram(
            f"{name}_batch_size", f"items per {name} batch", buckets=_SIZES, registry=registry
        )
        self._seconds = Histogram(
            f"{name}_batch_seconds", f"seconds per {name} batch", registry=registry
        )
        self._queue: queue.Queue[tuple[Item, Future[Answer]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, item: Item, timeout: float = 300) -> Answer:
        """Hand ``item`` to the next batch and wait for its answer (or the batch's error)."""
        self._ensure_started()
        future: Future[Answer] = Future()
        self._queue.put((item, future))
        return future.result(timeout=timeout)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)

    @abstractmethod
    def _run_batch(self, items: list[Item]) -> Sequence[Answer]:
        """One answer per item, in order."""

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                name = f"{self._name}-batcher"
                self._thread = threading.Thread(target=self._run, name=name, daemon=True)
                self._thread.start()

    def _collect(self) -> list[tuple[Item, Future[Answer]]] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self._max_wait
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=remaining)
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
                answers = self._run_batch([item for item, _ in batch])
            except Exception as exc:  # handed to every waiting job, which fails or retries
                for _, future in batch:
                    future.set_exception(exc)
                continue
            elapsed = time.perf_counter() - started
            self._sizes.observe(len(batch))
            self._seconds.observe(elapsed)
            log.debug("batch", batcher=self._name, size=len(batch), ms=round(elapsed * 1000, 1))
            for (_, future), answer in zip(batch, answers, strict=True):
                future.set_result(answer)


class EmbeddingBatcher(Batcher[np.ndarray, np.ndarray]):
    """Forward passes shared across jobs. The jobs preprocess their own pictures, in parallel on
    their threads (``preprocess``); the batch only stacks the arrays and runs the model."""

    def __init__(
        self,
        embedder: ClipEmbedder,
        max_batch: int,
        max_wait_ms: int,
        registry: CollectorRegistry,
    ) -> None:
        super().__init__("embed", max_batch, max_wait_ms, registry)
        self._embedder = embedder

    @property
    def input_size(self) -> int:
        """The side of the model's square input: a picture decoded smaller loses detail."""
        return self._embedder.input_size

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """The model's input for ``image``, made on the caller's thread."""
        return self._embedder.preprocess(image)

    def embed_preprocessed(self, pixels: np.ndarray, timeout: float = 300) -> np.ndarray:
        return self.submit(pixels, timeout)

    def embed(self, image: Image.Image, timeout: float = 300) -> np.ndarray:
        return self.submit(self.preprocess(image), timeout)

    def _run_batch(self, items: list[np.ndarray]) -> list[np.ndarray]:
        return list(self._embedder.embed_preprocessed(items))
