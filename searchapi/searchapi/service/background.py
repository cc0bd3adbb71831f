"""A query's background: its scores against a random sample of the library's vectors.

The cutoff (``searchapi.service.cutoff``) measures each hit against what a typical picture of this
library scores for the query. The sample is taken by the first search of the process (the only
one that waits for it) and renewed in a thread once older than ``max_age_s``, so the library's
growth reaches it without any search waiting; an empty sample (an empty library) is renewed after
every search until pictures arrive. A failed renewal keeps the old sample and is logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from shared.logging import get_logger

log = get_logger(__name__)


class Sampler(Protocol):
    def sample(self, count: int) -> np.ndarray: ...


class LibraryBackground:
    def __init__(
        self,
        vectors: Sampler,
        size: int,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._vectors = vectors
        self._size = size
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: np.ndarray | None = None
        self._taken_at = 0.0
        self._renewing = False

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine scores of the query against the sample (rows are L2-normalised); empty when
        the library is."""
        rows = self._current()
        scores: np.ndarray = rows @ vector if len(rows) else np.empty(0, dtype=np.float32)
        return scores

    def _current(self) -> np.ndarray:
        with self._lock:
            rows = self._rows
            renew = rows is not None and self._stale(rows) and not self._renewing
            self._renewing = self._renewing or renew
        if rows is None:
            return self._take()
        if renew:
            threading.Thread(target=self._renew, name="background-sample", daemon=True).start()
        return rows

    def _stale(self, rows: np.ndarray) -> bool:
        return not len(rows) or self._clock() - self._taken_at > self._max_age_s

    def _take(self) -> np.ndarray:
        rows = self._vectors.sample(self._size)
        log.info("background sampled", vectors=len(rows))  # before searches can see the rows
        with self._lock:
            self._rows, self._taken_at = rows, self._clock()
        return rows

    def _renew(self) -> None:
        try:
            self._take()
        except Exception:  # a thread of its own: nobody else would see it
            log.exception("background sample failed; keeping the old one")
        finally:
            with self._lock:
                self._renewing = False
