"""The library as the catalog knows it: pages newest first (or oldest, or by name) with totals,
one image's record, and tag edits, which the index mirrors so search can filter by tag."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from shared.catalog.images import ImageCatalog, ImagePage, ImageQuery
from shared.domain import ImageRecord, check_image_id, check_source, normalise_tags
from shared.errors import ImageNotFound
from shared.vectors import VectorStore


class LibraryService:
    def __init__(self, images: ImageCatalog, vectors: VectorStore, max_limit: int) -> None:
        self._images = images
        self._vectors = vectors
        self._max_limit = max_limit

    def page(self, query: ImageQuery) -> ImagePage:
        if query.source is not None:
            check_source(query.source)
        tag = next(iter(normalise_tags([query.tag] if query.tag else [])), None)
        limit = min(query.limit, self._max_limit)
        return self._images.page(dataclasses.replace(query, tag=tag, limit=limit))

    def image(self, image_id: str) -> ImageRecord:
        return self._images.get(check_image_id(image_id))

    def set_tags(self, image_id: str, tags: Sequence[str]) -> list[str]:
        now = self._images.set_tags(check_image_id(image_id), normalise_tags(tags))
        self._mirror(image_id, now)
        return now

    def change_tags(self, image_id: str, add: Sequence[str], remove: Sequence[str]) -> list[str]:
        now = self._images.change_tags(
            check_image_id(image_id), normalise_tags(add), normalise_tags(remove)
        )
        self._mirror(image_id, now)
        return now

    def _mirror(self, image_id: str, tags: list[str]) -> None:
        """The index row carries the tags too (search filters on them): rewrite it with them."""
        found = self._vectors.get([image_id], with_vectors=True, strong=True)
        if not found:
            raise ImageNotFound(f"image {image_id} is catalogued but not indexed yet; try again")
        found[0].tags = tags
        self._vectors.upsert(found)
