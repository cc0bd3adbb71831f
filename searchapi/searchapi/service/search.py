"""Search: text, an uploaded image or an indexed image in; ranked, described hits out.

``cutoff`` decides which hits are matches; the count of matches is the same on every page (it
never depends on how far a page reaches, up to the configured pool).
"""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, Histogram

from searchapi.config import CutoffOptions
from searchapi.service.background import LibraryBackground
from searchapi.service.cutoff import Page, Ranking, count_matches, rank, threshold
from searchapi.service.text_cache import TextEmbeddingCache
from shared.domain import ImageRecord, SearchFilters, check_image_id
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
        background: LibraryBackground,
        cutoff: CutoffOptions,
    ) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self._background = background
        self._cutoff = cutoff
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

    def by_text(self, text: str, page: Page, filters: SearchFilters) -> Ranking:
        text = text.strip()
        if not text:
            raise InvalidInput("the search text is empty")
        if len(text) > self._max_query_chars:
            raise InvalidInput(f"the search text is longer than {self._max_query_chars} characters")
        with self._stage_seconds.labels("embed_text").time():
            vector = self._texts.get(text)
        return self._search(vector, page, filters)

    def by_image(self, upload: ReceivedFile, page: Page, filters: SearchFilters) -> Ranking:
        upload.check_size()
        inspect_image(upload.file, self._max_pixels)
        with self._stage_seconds.labels("embed_image").time():
            decoded = decode_image(upload.file.read(), self._max_pixels)
            vector = self._embedder.embed_images([decoded.image])[0]
        return self._search(vector, page, filters)

    def similar(self, image_id: str, page: Page) -> Ranking:
        """Neighbours of an indexed image; the image itself is never among them."""
        record = self._record(image_id, with_vector=True)
        assert record.embedding is not None
        return self._search(record.embedding, page, SearchFilters(), image_id)

    def _record(self, image_id: str, with_vector: bool) -> ImageRecord:
        check_image_id(image_id)
        found = self._vectors.get([image_id], with_vectors=with_vector)
        if not found:
            raise ImageNotFound(f"no indexed image {image_id}")
        return found[0]

    def _search(
        self, vector: np.ndarray, page: Page, filters: SearchFilters, exclude: str | None = None
    ) -> Ranking:
        reach = page.offset + page.limit
        with self._stage_seconds.labels("milvus").time():
            hits = self._vectors.search(vector, reach, 0, filters, None, exclude)
        if not hits:
            return Ranking(0, [])
        with self._stage_seconds.labels("cutoff").time():
            background = self._background.scores(vector)
            if not len(background):  # sampled before any picture came: the candidates stand in
                background = np.array(self._pool(vector, reach, filters, exclude))
            line = threshold(hits[0].score, background, self._cutoff.ratio)
            scores = [hit.score for hit in hits]
            if len(hits) == reach and hits[-1].score >= line:  # matches beyond the page
                scores = self._pool(vector, reach, filters, exclude)
            return rank(hits, count_matches(scores, line, page.min_score), page)

    def _pool(
        self, vector: np.ndarray, reach: int, filters: SearchFilters, exclude: str | None
    ) -> list[float]:
        return self._vectors.scores(vector, max(self._cutoff.pool, reach), filters, exclude)
