"""A library indexed before the catalog existed: its rows are copied from the index, once.

Libraries made by the first versions kept every image's metadata only in Milvus. When a worker
starts on such a library (an empty catalog, a non-empty index), it catalogues every index row,
so nobody loses an image by upgrading. The index keeps no perceptual hash, so each original is
hashed on the way (an original that cannot be read leaves its row unhashed, for `verify --repair`).
Idempotent: rows are replaced, never doubled.
"""

from __future__ import annotations

from shared.catalog.images import ImageCatalog
from shared.domain import original_key
from shared.errors import InvalidImage, ObjectNotFound
from shared.imaging import decode_image
from shared.logging import get_logger
from shared.phash import perceptual_hash
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger(__name__)


def backfill_from_index(
    images: ImageCatalog,
    vectors: VectorStore,
    objects: ObjectStore,
    max_pixels: int,
    batch_size: int = 500,
) -> int:
    """Catalogue every indexed image when the catalog is empty; answers how many were copied."""
    if images.count() > 0:
        return 0
    copied = 0
    for batch in vectors.ids(batch_size):
        records = vectors.get(batch, strong=True)
        for record in records:
            record.phash = _hash_of_original(objects, record.id, max_pixels)
        images.add(records)
        copied += len(records)
    if copied:
        log.info("catalogued a library indexed before the catalog", images=copied)
    return copied


def _hash_of_original(objects: ObjectStore, image_id: str, max_pixels: int) -> str | None:
    try:
        return perceptual_hash(decode_image(objects.get(original_key(image_id)), max_pixels).image)
    except (InvalidImage, ObjectNotFound):
        return None
