"""DuplicateService on the real catalog (a SQLite file): groups of near-duplicates, the largest
copy first, pages by cursor, one image's copies, and the hashes it keeps while the library stays
the same. Hashes are written by hand here, so every distance is known."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from searchapi.service.duplicates import DuplicateGroups, DuplicateService
from shared.catalog.images import ImageCatalog
from shared.domain import ImageRecord
from shared.errors import Conflict, ImageNotFound, InvalidInput
from tests.support.local_catalog import sqlite_catalog

MAX_DISTANCE = 4


def record(
    name: str, phash: str | None, width: int = 100, size: int = 1_000, ingested_at: int = 1
) -> ImageRecord:
    image_id = (name * 64)[:64]
    return ImageRecord(image_id, width, 100, size, "PNG", f"{name}.png", ingested_at, phash=phash)


def flipped(bits: int) -> str:
    """A hash with the ``bits`` lowest bits set: ``bits`` apart from all zeros."""
    return f"{(1 << bits) - 1:016x}"


# Family a: a chain (a1 - a2 within 4 bits, a2 - a3 within 4, a1 - a3 6 apart); the largest
# first (a2: most pixels; then a3 over a1: more bytes). Family b: two copies. c: alone.
A1 = record("a1", flipped(0), width=100, size=1_000)
A2 = record("a2", flipped(3), width=200, size=500)
A3 = record("a3", flipped(6), width=100, size=2_000)
B1 = record("b1", "ffffffff00000000")
B2 = record("b2", "ffffffff00000003")
C = record("c0", "00000000ffffffff")
UNHASHED = record("d0", None)


@pytest.fixture
def images(tmp_path: Path) -> Iterator[ImageCatalog]:
    catalog = sqlite_catalog(tmp_path)
    images = ImageCatalog(catalog)
    images.add([A1, A2, A3, B1, B2, C, UNHASHED])
    yield images
    catalog.close()


@pytest.fixture
def service(images: ImageCatalog) -> DuplicateService:
    return DuplicateService(images, max_distance=MAX_DISTANCE, max_age_s=300, max_limit=10)


def listed(groups: DuplicateGroups) -> list[list[tuple[str, int]]]:
    return [[(d.record.filename, d.distance) for d in group] for group in groups.groups]


def test_groups_join_chains_with_the_largest_copy_first_and_most_copies_first(
    service: DuplicateService,
) -> None:
    found = service.groups(None, limit=10)
    assert found.max_distance == MAX_DISTANCE
    assert listed(found) == [
        [("a2.png", 0), ("a3.png", 3), ("a1.png", 3)],
        [("b1.png", 0), ("b2.png", 2)],
    ]
    assert found.next_cursor is None


def test_a_smaller_distance_splits_the_chain_and_zero_finds_only_equal_hashes(
    service: DuplicateService,
) -> None:
    assert listed(service.groups(2, limit=10)) == [[("b1.png", 0), ("b2.png", 2)]]
    assert listed(service.groups(0, limit=10)) == []


def test_pages_follow_the_cursor_to_the_end(service: DuplicateService) -> None:
    first = service.groups(None, limit=1)
    assert [g[0].record.filename for g in first.groups] == ["a2.png"]
    assert first.next_cursor is not None
    second = service.groups(None, limit=1, cursor=first.next_cursor)
    assert [g[0].record.filename for g in second.groups] == ["b1.png"]
    assert second.next_cursor is None


def test_a_cursor_of_another_distance_or_not_ours_is_refused(service: DuplicateService) -> None:
    cursor = service.groups(None, limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput, match="max_distance=4"):
        service.groups(3, limit=1, cursor=cursor)
    with pytest.raises(InvalidInput, match="cursor"):
        service.groups(None, limit=1, cursor="not-a-cursor")


@pytest.mark.parametrize("distance", [-1, 17])
def test_a_distance_outside_0_to_16_is_refused(service: DuplicateService, distance: int) -> None:
    with pytest.raises(InvalidInput, match="0 to 16"):
        service.groups(distance, limit=1)


def test_an_image_deleted_after_the_groups_were_found_is_left_out_at_once(
    service: DuplicateService, images: ImageCatalog
) -> None:
    service.groups(None, limit=10)
    images.delete(B2.id)
    images.add([record("e0", "0f0f0f0f0f0f0f0f")])  # the same count of hashed images
    assert listed(service.groups(None, limit=10)) == [[("a2.png", 0), ("a3.png", 3), ("a1.png", 3)]]


def test_a_new_copy_joins_its_group_on_the_next_listing(
    service: DuplicateService, images: ImageCatalog
) -> None:
    service.groups(None, limit=10)
    images.add([record("c1", "00000000fffffffe", width=300, ingested_at=2)])
    assert [("c1.png", 0), ("c0.png", 1)] in listed(service.groups(None, limit=10))


def test_one_images_copies_come_closest_first_without_itself(
    service: DuplicateService,
) -> None:
    found = service.of_image(A1.id, None)
    assert (found.image_id, found.max_distance) == (A1.id, MAX_DISTANCE)
    assert [(d.record.filename, d.distance) for d in found.duplicates] == [("a2.png", 3)]
    wider = service.of_image(A1.id, 6).duplicates
    assert [(d.record.filename, d.distance) for d in wider] == [("a2.png", 3), ("a3.png", 6)]


def test_an_image_alone_has_no_copies(service: DuplicateService) -> None:
    assert service.of_image(C.id, None).duplicates == []


def test_an_image_without_a_hash_or_unknown_is_answered_with_the_reason(
    service: DuplicateService,
) -> None:
    with pytest.raises(Conflict, match="verify --repair"):
        service.of_image(UNHASHED.id, None)
    with pytest.raises(ImageNotFound):
        service.of_image("f" * 64, None)
    with pytest.raises(InvalidInput):
        service.of_image("not-an-id", None)
