"""Perceptual hashes in the catalog, on SQLite and PostgreSQL: stored with the image row, listed
for duplicate search with each image's size, and filled in later for rows that lack one."""

from __future__ import annotations

import pytest

from shared.catalog.db import Catalog
from shared.catalog.images import HashedImage, ImageCatalog
from shared.domain import ImageRecord
from shared.errors import ImageNotFound


def _image(n: int, phash: str | None, at: int = 1_000) -> ImageRecord:
    return ImageRecord(f"{n:064x}", 10 * n, 20, 100 + n, "PNG", f"{n}.png", at, phash=phash)


def test_the_hash_is_stored_and_read_with_the_image(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(1, "0123456789abcdef")])
    assert images.get(f"{1:064x}").phash == "0123456789abcdef"


def test_hashed_lists_only_images_with_a_hash_in_id_order_with_their_size(
    catalog: Catalog,
) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(3, "00000000000000ff"), _image(1, None), _image(2, "ffffffffffffffff")])
    assert images.hashed() == [
        HashedImage(f"{2:064x}", "ffffffffffffffff", 20 * 20, 102),
        HashedImage(f"{3:064x}", "00000000000000ff", 30 * 20, 103),
    ]
    assert images.unhashed_ids() == {f"{1:064x}"}


def test_set_phash_fills_in_a_missing_hash(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(1, None)])
    images.set_phash(f"{1:064x}", "000000000000000f")
    assert images.unhashed_ids() == set()
    assert [h.phash for h in images.hashed()] == ["000000000000000f"]
    with pytest.raises(ImageNotFound):
        images.set_phash(f"{9:064x}", "000000000000000f")


def test_the_stamp_changes_when_hashed_images_come_or_go(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    assert images.hashed_stamp() == (0, 0)
    images.add([_image(1, "00000000000000ff", at=5), _image(2, None, at=9)])
    assert images.hashed_stamp() == (1, 9)
    images.add([_image(3, "0000000000000fff", at=12)])
    assert images.hashed_stamp() == (2, 12)
    images.delete(f"{1:064x}")
    assert images.hashed_stamp() == (1, 12)
