"""Re-index: re-embed every original with the configured model into a new collection, then move
the alias to it in one step.

The catalog names the images: every catalogued image is embedded from its original. Search keeps
answering throughout: running services read the collection they verified at start, and the alias
moves only when the new collection is complete. Images catalogued while this runs are copied over
after the move. A record keeps what the catalog knows (filename, ingest time, metadata, tags).
"""

from __future__ import annotations

from shared.catalog.images import ImageCatalog
from shared.domain import ImageRecord, original_key
from shared.embedding import ClipEmbedder
from shared.errors import InvalidImage
from shared.imaging import decode_image
from shared.logging import get_logger
from shared.records import record_of
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore

log = get_logger(__name__)


class Reindexer:
    def __init__(
        self,
        embedder: ClipEmbedder,
        objects: ObjectStore,
        images: ImageCatalog,
        index: VectorIndex,
        max_pixels: int,
        batch_size: int,
    ) -> None:
        if batch_size < 1:  # a catalog read of 0 ids would end the re-index at once, empty
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._embedder = embedder
        self._objects = objects
        self._images = images
        self._index = index
        self._max_pixels = max_pixels
        self._batch_size = batch_size

    def run(self, drop_previous: bool) -> str:
        """Build the new collection, move the alias to it; returns its name."""
        self._embedder.load()
        old = self._index.target()
        new = self._index.create_collection(self._embedder.identity)
        self._index.load(new)
        target = VectorStore(self._index, new)
        log.info("re-index started", old=old, new=new, model=self._embedder.identity.key)
        self._copy_missing(target)  # the bulk, while search uses the old collection
        self._index.switch_alias(new)
        log.info("alias moved", alias=self._index.alias, collection=new)
        self._copy_missing(target)  # images catalogued meanwhile
        if drop_previous and old:
            self._index.drop_collection(old)
            log.info("dropped previous collection", collection=old)
        return new

    def _copy_missing(self, target: VectorStore) -> None:
        """Every catalogued image the new collection lacks, embedded from its original."""
        for batch in self._images.ids(self._batch_size):
            present = target.existing_ids(batch)
            missing = [i for i in batch if i not in present]
            if missing:
                target.upsert(self._records(self._images.get_many(missing)))
                log.info("re-embedded", images=len(missing))

    def _records(self, known: list[ImageRecord]) -> list[ImageRecord]:
        records, images = [], []
        for old in known:
            image_id = old.id
            data = self._objects.get(original_key(image_id))
            try:
                decoded = decode_image(data, self._max_pixels)
            except InvalidImage as exc:
                log.warning("skipped undecodable original", image_id=image_id, reason=exc.detail)
                continue
            records.append(
                record_of(
                    image_id,
                    decoded,
                    size=len(data),
                    filename=old.filename,
                    source=old.source,
                    known=old,
                )
            )
            images.append(decoded.image)
        if images:
            for record, vector in zip(records, self._embedder.embed_images(images), strict=True):
                record.embedding = vector
        return records
