"""The one Milvus vector store: a collection per embedding model, reached through an alias.

The collection records the model that made its vectors (collection properties). Opening the alias
with another model refuses to start and says how to re-index, so vectors of two models never mix.
Searches use Bounded consistency (milliseconds); dedup reads use Strong (they must see the latest
upsert, at the cost of one time tick).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
from pymilvus import MilvusClient, MilvusException

from shared.config import MilvusSettings
from shared.domain import Hit, ImageRecord, SearchFilters
from shared.errors import DependencyUnavailable, ModelMismatch
from shared.vector_schema import (
    DIM_PROPERTY,
    FIELDS,
    MODEL_PROPERTY,
    ModelIdentity,
    collection_name_for,
    filter_expression,
    from_row,
    image_index,
    image_schema,
    to_row,
)

_NOT_LOADED = 101
_UNAVAILABLE_CODES = {1, 2, 10, 1100}
T = TypeVar("T")


def _unavailable(exc: Exception) -> bool:
    code = getattr(exc, "code", None)
    return not isinstance(exc, MilvusException) or code in _UNAVAILABLE_CODES


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except MilvusException as exc:
        if _unavailable(exc):
            raise DependencyUnavailable("vector database") from exc
        raise
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise DependencyUnavailable("vector database") from exc


class VectorStore:
    def __init__(self, settings: MilvusSettings) -> None:
        self._settings = settings
        self.alias = settings.alias
        self._client: MilvusClient | None = None
        self._lock = threading.Lock()
        # Set by open(): the collection checked against this service's model. Reads and writes
        # go there, not through the alias, so a re-index moving the alias never mixes models.
        self.collection: str | None = None

    @property
    def _name(self) -> str:
        return self.collection or self.alias

    @property
    def client(self) -> MilvusClient:
        with self._lock:
            if self._client is None:
                with _mapped_errors():
                    self._client = MilvusClient(
                        uri=self._settings.uri,
                        token=self._settings.token,
                        timeout=self._settings.timeout_s,
                    )
            return self._client

    def ping(self) -> bool:
        try:
            with _mapped_errors():
                self.client.get_server_version()
        except DependencyUnavailable:
            return False
        return True

    # -- the alias and the model guard ------------------------------------------------------------

    def target(self) -> str | None:
        """The collection behind the alias, or None when nothing was indexed yet."""
        with _mapped_errors():
            if self.alias not in self.client.list_aliases().get("aliases", []):
                return None
            return str(self.client.describe_alias(self.alias)["collection_name"])

    def model_of(self, collection: str) -> str | None:
        with _mapped_errors():
            properties = self.client.describe_collection(collection).get("properties", {})
        model = properties.get(MODEL_PROPERTY)
        return str(model) if model is not None else None

    def open(self, model: ModelIdentity) -> str:
        """Make the alias usable for ``model``: create its collection if none, else check it."""
        collection = self.target() or self._create_aliased(model)
        found = self.model_of(collection)
        if found != model.key:
            raise ModelMismatch(
                f"the '{self.alias}' index (collection {collection}) holds vectors of model "
                f"{found!r}, but this service is configured for {model.key!r}. Configure the "
                f"same model, or re-index with the new one: `make reindex` "
                f"(python -m searchapi.reindex)."
            )
        self.load(collection)
        self.collection = collection
        return collection

    def _create_aliased(self, model: ModelIdentity) -> str:
        """A new collection behind the alias; if another service made one meanwhile, theirs."""
        created = self.create_collection(model)
        try:
            with _mapped_errors():
                self.client.create_alias(created, self.alias)
            return created
        except MilvusException:
            # Services starting together on an empty Milvus race here: one alias wins.
            self.drop_collection(created)
            winner = self.target()
            if winner is None:
                raise
            return winner

    def create_collection(self, model: ModelIdentity) -> str:
        name = collection_name_for(self.alias, model)
        with _mapped_errors():
            self.client.create_collection(
                name,
                schema=image_schema(model.dim),
                index_params=image_index(),
                consistency_level="Bounded",
                properties={MODEL_PROPERTY: model.key, DIM_PROPERTY: str(model.dim)},
            )
        return name

    def load(self, collection: str | None = None) -> None:
        """Collections come back released after a Milvus restart: load before use."""
        with _mapped_errors():
            self.client.load_collection(collection or self._name)

    def switch_alias(self, collection: str) -> str | None:
        """Point the alias at ``collection`` atomically; returns the collection it left."""
        previous = self.target()
        with _mapped_errors():
            if previous is None:
                self.client.create_alias(collection, self.alias)
            else:
                self.client.alter_alias(collection, self.alias)
        return previous

    def drop_collection(self, collection: str) -> None:
        with _mapped_errors():
            self.client.drop_collection(collection)

    # -- rows --------------------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        """Run a data call; if Milvus restarted and released the collection, load it and retry."""
        with _mapped_errors():
            try:
                return fn()
            except MilvusException as exc:
                if exc.code != _NOT_LOADED:
                    raise
            self.load()
            return fn()

    def upsert(self, records: Sequence[ImageRecord], collection: str | None = None) -> None:
        rows = [to_row(r) for r in records]
        self._call(lambda: self.client.upsert(collection or self._name, rows))

    def _exists(self) -> bool:
        return self.collection is not None or self.target() is not None

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these ids are indexed, reading the latest writes (Strong consistency)."""
        if not ids or not self._exists():
            return set()
        rows = self._call(
            lambda: self.client.query(
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
            lambda: self.client.get(
                self._name, ids=list(ids), output_fields=fields, consistency_level=consistency
            )
        )
        return [from_row(row) for row in rows]

    def delete(self, ids: Sequence[str]) -> None:
        if ids and self._exists():
            self._call(lambda: self.client.delete(self._name, ids=list(ids)))

    def search(
        self,
        vector: np.ndarray,
        limit: int,
        offset: int = 0,
        filters: SearchFilters | None = None,
        min_score: float | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        expression = filter_expression(filters or SearchFilters())
        if exclude:
            expression = " and ".join(filter(None, [expression, f'id != "{exclude}"']))
        results = self._call(
            lambda: self.client.search(
                self._name,
                data=[vector.astype(np.float32).tolist()],
                anns_field="embedding",
                limit=limit,
                offset=offset,
                filter=expression,
                output_fields=FIELDS,
                search_params={"metric_type": "COSINE", "params": {"ef": max(64, offset + limit)}},
            )
        )
        hits = [
            Hit(record=from_row(r["entity"] | {"id": r["id"]}), score=r["distance"])
            for r in results[0]
        ]
        if min_score is not None:
            hits = [h for h in hits if h.score >= min_score]
        return hits

    def list(self, limit: int, offset: int = 0) -> list[ImageRecord]:
        """A stable page of indexed images (ordered by id)."""
        if not self._exists():
            return []
        rows = self._call(
            lambda: self.client.query(
                self._name, filter='id != ""', output_fields=FIELDS, limit=limit, offset=offset
            )
        )
        return sorted((from_row(row) for row in rows), key=lambda r: r.id)

    def count(self, collection: str | None = None) -> int:
        if collection is None and not self._exists():
            return 0
        rows = self._call(
            lambda: self.client.query(
                collection or self._name,
                filter="",
                output_fields=["count(*)"],
                consistency_level="Strong",
            )
        )
        return int(rows[0]["count(*)"])

    def iterate(self, batch_size: int = 500) -> Iterator[ImageRecord]:
        """Every indexed record (without vectors), in pages."""
        offset = 0
        while page := self.list(batch_size, offset):
            yield from page
            offset += len(page)
