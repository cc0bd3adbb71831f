"""Rows of the Milvus image index: upsert, existence reads, gets, deletes, searches, all ids.

A store works on one collection: the one named when it was made (re-index writes a new one), else
the one its index opened and checked against the service's model. Once opened, reads and writes
never go through the alias, so a re-index moving the alias never mixes models. A service that
never opens the index (ingestapi knows no model) goes through the alias.
Searches use Bounded consistency (milliseconds); dedup reads use Strong (they must see the latest
upsert, at the cost of one time tick). Ids are SHA-256 digests of the bytes, so the rows under a
few random id prefixes are a uniform sample of the library, whatever their age.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from pymilvus import MilvusException

from shared.domain import Hit, ImageRecord, SearchFilters
from shared.milvus import mapped_errors
from shared.vector_index import VectorIndex
from shared.vector_schema import FIELDS, filter_expression, from_row, to_row

_NOT_LOADED = 101
T = TypeVar("T")


class VectorStore:
    def __init__(self, index: VectorIndex, collection: str | None = None) -> None:
        self._index = index
        self._collection = collection

    @property
    def _name(self) -> str:
        return self._collection or self._index.opened or self._index.alias

    def _exists(self) -> bool:
        """False only before anything was indexed: then there is no alias to read through."""
        return bool(self._collection or self._index.opened) or self._index.target() is not None

    def _call(self, fn: Callable[[], T]) -> T:
        """Run a data call; if Milvus restarted and released the collection, load it and retry."""
        with mapped_errors():
            try:
                return fn()
            except MilvusException as exc:
                if exc.code != _NOT_LOADED:
                    raise
            self._index.load(self._name)
            return fn()

    def upsert(self, records: Sequence[ImageRecord]) -> None:
        rows = [to_row(r) for r in records]
        self._call(lambda: self._index.client.upsert(self._name, rows))

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these ids are indexed, reading the latest writes (Strong consistency)."""
        if not ids or not self._exists():
            return set()
        rows = self._call(
            lambda: self._index.client.query(
                self._name,
                filter="id in [" + ", ".join(f'"{i}"' for i in ids) + "]",
                output_fields=["id"],
                consistency_level="Strong",
            )
        )
        return {row["id"] for row in rows}

    def get(
        self, ids: Sequence[str], with_vectors: bool = False, strong: bool = False
    ) -> list[ImageRecord]:
        """Records by id; ``strong`` also sees writes of the last second (slower by a time tick)."""
        if not ids or not self._exists():
            return []
        fields = FIELDS + (["embedding"] if with_vectors else [])
        consistency = "Strong" if strong else "Bounded"
        rows = self._call(
            lambda: self._index.client.get(
                self._name, ids=list(ids), output_fields=fields, consistency_level=consistency
            )
        )
        return [from_row(row) for row in rows]

    def delete(self, ids: Sequence[str]) -> None:
        if ids and self._exists():
            self._call(lambda: self._index.client.delete(self._name, ids=list(ids)))

    def search(
        self,
        vector: np.ndarray,
        limit: int,
        offset: int = 0,
        filters: SearchFilters | None = None,
        min_score: float | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        results = self._search(vector, limit, offset, filters, exclude, FIELDS)
        hits = [
            Hit(record=from_row(r["entity"] | {"id": r["id"]}), score=r["distance"])
            for r in results
        ]
        if min_score is not None:
            hits = [h for h in hits if h.score >= min_score]
        return hits

    def scores(
        self,
        vector: np.ndarray,
        limit: int,
        filters: SearchFilters | None = None,
        exclude: str | None = None,
    ) -> list[float]:
        """The scores alone of the best ``limit`` hits, best first: no field is read, so a long
        list costs about what a page of hits does."""
        return [r["distance"] for r in self._search(vector, limit, 0, filters, exclude, [])]

    def _search(
        self,
        vector: np.ndarray,
        limit: int,
        offset: int,
        filters: SearchFilters | None,
        exclude: str | None,
        fields: list[str],
    ) -> list[dict[str, Any]]:
        expression = filter_expression(filters or SearchFilters())
        if exclude:
            expression = " and ".join(filter(None, [expression, f'id != "{exclude}"']))
        results = self._call(
            lambda: self._index.client.search(
                self._name,
                data=[vector.astype(np.float32).tolist()],
                anns_field="embedding",
                limit=limit,
                offset=offset,
                filter=expression,
                output_fields=fields,
                search_params={"metric_type": "COSINE", "params": {"ef": max(64, offset + limit)}},
            )
        )
        return list(results[0])

    def sample(self, count: int) -> np.ndarray:
        """About ``count`` stored embeddings (fewer in a smaller library), chosen at random."""
        if not self._exists():
            return np.empty((0, 0), dtype=np.float32)
        [row] = self._call(
            lambda: self._index.client.query(self._name, filter="", output_fields=["count(*)"])
        )
        rows = self._call(
            lambda: self._index.client.query(
                self._name,
                filter=_id_sample(int(row["count(*)"]), count, random.Random()),
                output_fields=["embedding"],
                limit=count,
            )
        )
        if not rows:
            return np.empty((0, 0), dtype=np.float32)
        return np.asarray([r["embedding"] for r in rows], dtype=np.float32)

    def ids(self, batch_size: int = 1000) -> Iterator[list[str]]:
        """Every indexed id, in batches (reads everything written so far: Strong)."""
        if not self._exists():
            return
        iterator = self._call(
            lambda: self._index.client.query_iterator(
                self._name,
                batch_size=batch_size,
                filter='id != ""',
                output_fields=["id"],
                consistency_level="Strong",
            )
        )
        try:
            while batch := self._call(iterator.next):
                yield [row["id"] for row in batch]
        finally:
            iterator.close()


def _id_sample(total: int, count: int, rng: random.Random) -> str:
    """A filter keeping between about half and all of ``count`` rows out of ``total``: those
    under random id prefixes, each as short as holds at most ``count`` rows, as many as fit in
    ``count`` (more would be cut by the query's limit, which keeps the oldest)."""
    if total <= count:
        return 'id != ""'
    digits = math.ceil(math.log(total / count, 16))
    per_prefix = total / 16**digits
    chosen = rng.sample(range(16**digits), max(1, math.floor(count / per_prefix)))
    return " or ".join(f'id like "{p:0{digits}x}%"' for p in chosen)
