"""Search: text, an uploaded image or an indexed image in; ranked, described hits out."""

from __future__ import annotations

import time

import numpy as np
from prometheus_client import CollectorRegistry, Histogram

from searchapi.service.text_cache import TextEmbeddingCache
from shared.domain import Hit, ImageRecord, SearchFilters, check_image_id
from shared.embedding import TINY_MODEL, ClipEmbedder
from shared.errors import ImageNotFound, InvalidInput
from shared.imaging import decode_image, inspect_image
from shared.spool import ReceivedFile
from shared.vectors import VectorStore


class SearchService:
    def __init__(
        self,
        embedder: ClipEmbedder,
        vectors: VectorStore,
        cache_size: int,
        max_query_chars: int,
        max_pixels: int,
        registry: CollectorRegistry,
    ) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self._max_query_chars = max_query_chars
        self._max_pixels = max_pixels
        self._texts = TextEmbeddingCache(
            lambda text: embedder.embed_texts([text])[0], cache_size, registry
        )
        self._stage_seconds = Histogram(
            "search_stage_seconds", "time per search stage", ["stage"], registry=registry
        )

    @property
    def model(self) -> dict[str, object]:
        identity = self._embedder.identity
        return {
            "name": identity.name,
            "weights": identity.weights,
            "demo": identity.name == TINY_MODEL,
        }

    def by_text(
        self, text: str, limit: int, offset: int, min_score: float | None, filters: SearchFilters
    ) -> list[Hit]:
        text = text.strip()
        if not text:
            raise InvalidInput("the search text is empty")
        if len(text) > self._max_query_chars:
            raise InvalidInput(f"the search text is longer than {self._max_query_chars} characters")
        with self._stage_seconds.labels("embed_text").time():
            vector = self._texts.get(text)
        return self._search(vector, limit, offset, min_score, filters)

    def by_image(
        self,
        upload: ReceivedFile,
        limit: int,
        offset: int,
        min_score: float | None,
        filters: SearchFilters,
    ) -> list[Hit]:
        upload.check_size()
        inspect_image(upload.file, self._max_pixels)
        with self._stage_seconds.labels("embed_image").time():
            decoded = decode_image(upload.file.read(), self._max_pixels)
            vector = self._embedder.embed_images([decoded.image])[0]
        return self._search(vector, limit, offset, min_score, filters)

    def similar(self, image_id: str, limit: int, offset: int, min_score: float | None) -> list[Hit]:
        """Neighbours of an indexed image; the image itself is never among them."""
        record = self._record(image_id, with_vector=True)
        assert record.embedding is not None
        return self._search(record.embedding, limit, offset, min_score, SearchFilters(), image_id)

    def _record(self, image_id: str, with_vector: bool) -> ImageRecord:
        check_image_id(image_id)
        found = self._vectors.get([image_id], with_vectors=with_vector)
        if not found:
            raise ImageNotFound(f"no indexed image {image_id}")
        return found[0]

    def _search(
        self,
        vector: np.ndarray,
        limit: int,
        offset: int,
        min_score: float | None,
        filters: SearchFilters,
        exclude: str | None = None,
    ) -> list[Hit]:
        started = time.perf_counter()
        hits = self._vectors.search(vector, limit, offset, filters, min_score, exclude)
        self._stage_seconds.labels("milvus").observe(time.perf_counter() - started)
        return hits
