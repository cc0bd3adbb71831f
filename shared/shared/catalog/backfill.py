"""A library indexed before the catalog existed: its rows are copied from the index, once.

Libraries made by the first versions kept every image's metadata only in Milvus. When a worker
starts on such a library (an empty catalog, a non-empty index), it catalogues every index row,
so nobody loses an image by upgrading. Idempotent: rows are replaced, never doubled.
"""

from __future__ import annotations

from shared.catalog.images import ImageCatalog
from shared.logging import get_logger
from shared.vectors import VectorStore

log = get_logger(__name__)


def backfill_from_index(images: ImageCatalog, vectors: VectorStore, batch_size: int = 500) -> int:
    """Catalogue every indexed image when the catalog is empty; answers how many were copied."""
    if images.count() > 0:
        return 0
    copied = 0
    for batch in vectors.ids(batch_size):
        records = vectors.get(batch, strong=True)
        images.add(records)
        copied += len(records)
    if copied:
        log.info("catalogued a library indexed before the catalog", images=copied)
    return copied
