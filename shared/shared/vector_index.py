"""The Milvus index of images: a collection per embedding model, reached through an alias.

The collection records the model that made its vectors (collection properties). Opening the alias
with another model refuses to start and says how to re-index, so vectors of two models never mix.
Re-index builds a new collection beside the old one and moves the alias in one step; a collection
of an older schema (before the typed source, camera and tags fields) is copied into a current one
the same way when a service opens it.
Rows are read and written by ``shared.vectors.VectorStore``, on the collection opened here.
"""

from __future__ import annotations

from pymilvus import MilvusException

from shared.config import MilvusSettings
from shared.errors import ModelMismatch
from shared.logging import get_logger
from shared.milvus import MilvusConnection, mapped_errors
from shared.vector_schema import (
    DIM_PROPERTY,
    MODEL_PROPERTY,
    SCALARS_SINCE_V2,
    V1_FIELDS,
    ModelIdentity,
    collection_name_for,
    from_row,
    image_index,
    image_schema,
    to_row,
)

log = get_logger(__name__)


class VectorIndex(MilvusConnection):
    def __init__(self, settings: MilvusSettings) -> None:
        super().__init__(settings)
        self.alias = settings.alias
        # Set by open(): the collection checked against this service's model.
        self.opened: str | None = None

    def target(self) -> str | None:
        """The collection behind the alias, or None when nothing was indexed yet."""
        with mapped_errors():
            if self.alias not in self.client.list_aliases().get("aliases", []):
                return None
            return str(self.client.describe_alias(self.alias)["collection_name"])

    def model_of(self, collection: str) -> str | None:
        with mapped_errors():
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
        if not self._has_current_schema(collection):
            collection = self._upgrade(collection, model)
        self.load(collection)
        self.opened = collection
        return collection

    def _has_current_schema(self, collection: str) -> bool:
        with mapped_errors():
            described = self.client.describe_collection(collection)
        return set(SCALARS_SINCE_V2) <= {f["name"] for f in described.get("fields", [])}

    def _upgrade(self, old: str, model: ModelIdentity) -> str:
        """Copy every row, vectors included (no re-embedding), into a collection of the current
        schema, then move the alias to it and drop the old one. Run under a lock by the caller."""
        new = self.create_collection(model)
        self.load(old)
        copied = 0
        with mapped_errors():
            rows = self.client.query_iterator(
                old, batch_size=500, filter='id != ""', output_fields=[*V1_FIELDS, "embedding"]
            )
            try:
                while batch := rows.next():
                    self.client.upsert(new, [to_row(from_row(row)) for row in batch])
                    copied += len(batch)
            finally:
                rows.close()
            self.client.flush(new)
        self.switch_alias(new)
        self.drop_collection(old)
        log.info("index upgraded to the current schema", old=old, new=new, rows=copied)
        return new

    def _create_aliased(self, model: ModelIdentity) -> str:
        """A new collection behind the alias; if another service made one meanwhile, theirs."""
        created = self.create_collection(model)
        try:
            with mapped_errors():
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
        with mapped_errors():
            self.client.create_collection(
                name,
                schema=image_schema(model.dim),
                index_params=image_index(),
                consistency_level="Bounded",
                properties={MODEL_PROPERTY: model.key, DIM_PROPERTY: str(model.dim)},
            )
        return name

    def load(self, collection: str) -> None:
        """Collections come back released after a Milvus restart: load before use."""
        with mapped_errors():
            self.client.load_collection(collection)

    def switch_alias(self, collection: str) -> str | None:
        """Point the alias at ``collection`` atomically; returns the collection it left."""
        previous = self.target()
        with mapped_errors():
            if previous is None:
                self.client.create_alias(collection, self.alias)
            else:
                self.client.alter_alias(collection, self.alias)
        return previous

    def drop_collection(self, collection: str) -> None:
        with mapped_errors():
            self.client.drop_collection(collection)
