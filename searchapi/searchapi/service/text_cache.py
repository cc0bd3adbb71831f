"""A bounded, thread-safe LRU of query embeddings: repeated searches skip the text encoder."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from prometheus_client import CollectorRegistry, Counter


class TextEmbeddingCache:
    def __init__(
        self, encode: Callable[[str], np.ndarray], size: int, registry: CollectorRegistry
    ) -> None:
        self._encode = encode
        self._size = size
        self._lookups = Counter(
            "text_embedding_cache_total",
            "text embedding cache lookups",
            ["result"],
            registry=registry,
        )
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def normalise(text: str) -> str:
        return " ".join(text.split()).lower()

    def get(self, text: str) -> np.ndarray:
        key = self.normalise(text)
        with self._lock:
            if (found := self._entries.get(key)) is not None:
                self._entries.move_to_end(key)
                self._lookups.labels("hit").inc()
                return found
        self._lookups.labels("miss").inc()
        vector = self._encode(key)
        with self._lock:
            self._entries[key] = vector
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return vector

    def __len__(self) -> int:
        return len(self._entries)
