"""Stand-ins for our ports, for the fast tier: no Redis, MinIO, Milvus or broker.

Each in-memory fake keeps the promises of the real class that callers rely on (``ObjectNotFound``
for missing keys, idempotent deletes, cosine search with the same filters and paging, the index
refusing another model's collection), and exposes what it holds so a test asserts on stored
state, never on calls. The catalog is not faked (``tests.support.local_catalog``).
``fail_with(exc)`` makes every later call raise ``exc`` (``outage()`` raises what a real outage
does, ``DependencyUnavailable``) and ``ping`` answer False, until ``heal()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np

from shared.domain import Hit, ImageRecord, SearchFilters
from shared.errors import DependencyUnavailable, ModelMismatch, ObjectNotFound
from shared.storage import ObjectInfo
from shared.vector_schema import ModelIdentity, collection_name_for, filter_expression


class Failable:
    """A switch to make a fake behave like its backing service is down (or broken)."""

    dependency = "fake"

    def __init__(self) -> None:
        self._failure: Exception | None = None

    def fail_with(self, exc: Exception) -> None:
        self._failure = exc

    def outage(self) -> None:
        self.fail_with(DependencyUnavailable(self.dependency))

    def heal(self) -> None:
        self._failure = None

    def _check(self) -> None:
        if self._failure is not None:
            raise self._failure

    def ping(self) -> bool:
        return self._failure is None


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    content_type: str


class FakeObjectStore(Failable):
    dependency = "object storage"

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[str, StoredObject] = {}
        self.bucket_ensured = False

    def ensure_bucket(self) -> None:
        self._check()
        self.bucket_ensured = True

    def put(self, key: str, data: bytes | IO[bytes], content_type: str, length: int = -1) -> None:
        """Like MinIO: a stream is read from where it stands, ``length`` bytes (all if -1)."""
        self._check()
        body = data if isinstance(data, bytes) else data.read(length if length >= 0 else -1)
        if length >= 0 and len(body) != length:
            raise ValueError(f"stream gave {len(body)} bytes, {length} declared")
        self.objects[key] = StoredObject(bytes(body), content_type)

    def copy(self, source_key: str, key: str, content_type: str) -> None:
        self.objects[key] = StoredObject(self._found(source_key).data, content_type)

    def get(self, key: str) -> bytes:
        return self._found(key).data

    def stat(self, key: str) -> ObjectInfo:
        found = self._found(key)
        return ObjectInfo(key=key, size=len(found.data), content_type=found.content_type)

    def exists(self, key: str) -> bool:
        self._check()
        return key in self.objects

    def delete(self, key: str) -> None:
        self._check()
        self.objects.pop(key, None)

    def delete_many(self, keys: list[str]) -> None:
        self._check()
        for key in keys:
            self.objects.pop(key, None)

    def keys(self, prefix: str) -> Iterator[str]:
        self._check()
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def _found(self, key: str) -> StoredObject:
        self._check()
        if key not in self.objects:
            raise ObjectNotFound(f"no object {key}")
        return self.objects[key]


def _stored(record: ImageRecord) -> ImageRecord:
    if record.embedding is None:
        raise ValueError(f"record {record.id} has no embedding")
    return dataclasses.replace(
        record,
        meta=dict(record.meta),
        tags=list(record.tags),
        embedding=np.asarray(record.embedding, dtype=np.float32),
    )


def _matches(record: ImageRecord, filters: SearchFilters) -> bool:
    def at_least(value: int, bound: int | None) -> bool:
        return bound is None or value >= bound

    before = filters.ingested_before
    return (
        (not filters.formats or record.format in filters.formats)
        and at_least(record.width, filters.min_width)
        and at_least(record.height, filters.min_height)
        and at_least(record.ingested_at, filters.ingested_after)
        and (before is None or record.ingested_at < before)
        and set(filters.tags) <= set(record.tags)
        and filters.source in (None, record.source)
        and filters.camera_id in (None, record.camera_id)
    )


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


class FakeVectorStore(Failable):
    """The rows of one collection, searched exhaustively (Milvus' HNSW is approximate)."""

    dependency = "vector database"

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, ImageRecord] = {}
        self.upserts: list[int] = []  # rows per upsert: how writes were batched

    def upsert(self, records: Sequence[ImageRecord]) -> None:
        self._check()
        self.upserts.append(len(records))
        self.rows.update({r.id: _stored(r) for r in records})

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        self._check()
        return {i for i in ids if i in self.rows}

    def get(
        self, ids: Sequence[str], with_vectors: bool = False, strong: bool = False
    ) -> list[ImageRecord]:
        self._check()
        return [self._out(self.rows[i], with_vectors) for i in ids if i in self.rows]

    def delete(self, ids: Sequence[str]) -> None:
        self._check()
        for image_id in ids:
            self.rows.pop(image_id, None)

    def search(
        self,
        vector: np.ndarray,
        limit: int,
        offset: int = 0,
        filters: SearchFilters | None = None,
        min_score: float | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        """As the real store: filter, rank by cosine, page, then drop hits under ``min_score``."""
        self._check()
        filters = filters or SearchFilters()
        filter_expression(filters)  # the real store's validation: unknown formats raise
        ranked = sorted(
            (
                Hit(self._out(r, False), _cosine(vector, r.embedding))
                for r in self.rows.values()
                if r.embedding is not None and r.id != exclude and _matches(r, filters)
            ),
            key=lambda hit: (-hit.score, hit.record.id),
        )
        page = ranked[offset : offset + limit]
        return [h for h in page if min_score is None or h.score >= min_score]

    def scores(
        self,
        vector: np.ndarray,
        limit: int,
        filters: SearchFilters | None = None,
        exclude: str | None = None,
    ) -> list[float]:
        return [hit.score for hit in self.search(vector, limit, 0, filters, None, exclude)]

    def sample(self, count: int) -> np.ndarray:
        """As the real store: up to ``count`` embeddings; here the first by id, not at random."""
        self._check()
        rows = [r.embedding for _, r in sorted(self.rows.items()) if r.embedding is not None]
        return np.stack(rows[:count]) if rows else np.empty((0, 0), dtype=np.float32)

    def ids(self, batch_size: int = 1000) -> Iterator[list[str]]:
        self._check()
        ordered = sorted(self.rows)
        for start in range(0, len(ordered), batch_size):
            yield ordered[start : start + batch_size]

    @staticmethod
    def _out(record: ImageRecord, with_vector: bool) -> ImageRecord:
        vector = record.embedding.copy() if with_vector and record.embedding is not None else None
        return dataclasses.replace(
            record, meta=dict(record.meta), tags=list(record.tags), embedding=vector
        )


class FakeVectorIndex(Failable):
    """Collections by name with the model that made them, and the alias pointing at one."""

    dependency = "vector database"

    def __init__(self, alias: str = "images", holding: ModelIdentity | None = None) -> None:
        """``holding``: start with the alias on a collection already built by that model."""
        super().__init__()
        self.alias = alias
        self.opened: str | None = None
        self.collections: dict[str, str] = {}
        self.aliased: str | None = None
        if holding is not None:
            self.aliased = self.create_collection(holding)

    def target(self) -> str | None:
        self._check()
        return self.aliased

    def model_of(self, collection: str) -> str | None:
        self._check()
        return self.collections.get(collection)

    def open(self, model: ModelIdentity) -> str:
        collection = self.target() or self._create_aliased(model)
        found = self.model_of(collection)
        if found != model.key:
            raise ModelMismatch(
                f"the '{self.alias}' index holds vectors of model {found!r}, not {model.key!r}"
            )
        self.opened = collection
        return collection

    def _create_aliased(self, model: ModelIdentity) -> str:
        created = self.create_collection(model)
        self.switch_alias(created)
        return created

    def create_collection(self, model: ModelIdentity) -> str:
        self._check()
        name = collection_name_for(self.alias, model)
        self.collections[name] = model.key
        return name

    def load(self, collection: str) -> None:
        self._check()
        if collection not in self.collections:
            raise KeyError(f"no collection {collection}")

    def switch_alias(self, collection: str) -> str | None:
        self._check()
        previous, self.aliased = self.aliased, collection
        return previous

    def drop_collection(self, collection: str) -> None:
        self._check()
        self.collections.pop(collection, None)


@dataclass(frozen=True)
class Enqueued:
    job_id: str
    image_id: str
    filename: str


@dataclass(frozen=True)
class EnqueuedVariant:
    job_id: str
    image_id: str
    variant_id: str


class FakeIngestQueue(Failable):
    """ingestapi's queue of jobs, as lists of what was enqueued (no broker, no worker)."""

    dependency = "job queue"

    def __init__(self) -> None:
        super().__init__()
        self.enqueued: list[Enqueued] = []
        self.variants: list[EnqueuedVariant] = []
        self.captures: list[str] = []  # capture ids
        self.closed = False

    def enqueue(self, job_id: str, image_id: str, filename: str) -> None:
        self._check()
        self.enqueued.append(Enqueued(job_id, image_id, filename))

    def enqueue_variant(self, job_id: str, image_id: str, variant_id: str) -> None:
        self._check()
        self.variants.append(EnqueuedVariant(job_id, image_id, variant_id))

    def enqueue_capture(self, capture_id: str) -> None:
        self._check()
        self.captures.append(capture_id)

    def close(self) -> None:
        self.closed = True
