"""LibraryService: the catalog's pages (newest, oldest, by name) with totals, cursors and filters,
one image's record, and tag edits, normalised and mirrored into the index row.

The catalog is the real one on a SQLite file, the index an in-memory fake; both are read back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from searchapi.service.library import LibraryService
from shared.catalog.images import ImageCatalog, ImageQuery, Sort
from shared.domain import ImageRecord
from shared.errors import ImageNotFound, InvalidInput
from tests.support.fake_model import indexed_picture
from tests.support.fakes import FakeVectorStore
from tests.support.local_catalog import sqlite_catalog

MAX_LIMIT = 3
# Five pictures: ingest order differs from name order, and two share a filename.
LIBRARY = [
    indexed_picture("red", ingested_at=1_000, source="url", tags=["beach"]),
    indexed_picture("blue", ingested_at=2_000, tags=["beach", "sea"]),
    indexed_picture("green", ingested_at=3_000, source="url"),
    indexed_picture("yellow", ingested_at=4_000, tags=["sea"]),
    indexed_picture("red", width=80, ingested_at=5_000),
]
RED, BLUE, GREEN, YELLOW, RED_WIDE = LIBRARY


@pytest.fixture
def images(tmp_path: Path) -> Iterator[ImageCatalog]:
    catalog = sqlite_catalog(tmp_path)
    images = ImageCatalog(catalog)
    images.add(LIBRARY)
    yield images
    catalog.close()


@pytest.fixture
def vectors() -> FakeVectorStore:
    vectors = FakeVectorStore()
    vectors.upsert(LIBRARY)
    return vectors


@pytest.fixture
def library(images: ImageCatalog, vectors: FakeVectorStore) -> LibraryService:
    return LibraryService(images, vectors, max_limit=MAX_LIMIT)


def every_page(library: LibraryService, query: ImageQuery) -> tuple[list[list[str]], set[int]]:
    """The ids of each page, following the cursors to the end, and the totals the pages gave."""
    pages, totals = [], set()
    while True:
        page = library.page(query)
        pages.append([r.id for r in page.records])
        totals.add(page.total)
        if page.next_cursor is None:
            return pages, totals
        query = dataclasses.replace(query, cursor=page.next_cursor)


def ids(*records: ImageRecord) -> list[str]:
    return [r.id for r in records]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("newest", [RED_WIDE, YELLOW, GREEN, BLUE, RED]),
        ("oldest", [RED, BLUE, GREEN, YELLOW, RED_WIDE]),
        # by filename, then id: the two "red.png" in id order
        ("name", [BLUE, GREEN, *sorted([RED, RED_WIDE], key=lambda r: r.id), YELLOW]),
    ],
)
def test_pages_follow_the_sort_and_each_gives_the_total(
    library: LibraryService, sort: Sort, order: list[ImageRecord]
) -> None:
    pages, totals = every_page(library, ImageQuery(sort=sort, limit=2))
    assert pages == [ids(*order[:2]), ids(*order[2:4]), ids(*order[4:])]
    assert totals == {len(LIBRARY)}


def test_the_page_size_is_capped(library: LibraryService) -> None:
    page = library.page(ImageQuery(limit=1_000))
    assert len(page.records) == MAX_LIMIT and page.next_cursor is not None


def test_an_image_ingested_while_paging_shifts_no_page(
    library: LibraryService, images: ImageCatalog
) -> None:
    first = library.page(ImageQuery(sort="oldest", limit=2))
    images.add([indexed_picture("grey", ingested_at=500)])  # older than every page's image
    rest = library.page(ImageQuery(sort="oldest", limit=10, cursor=first.next_cursor))
    assert [r.id for r in first.records + rest.records] == ids(*LIBRARY)
    assert rest.total == len(LIBRARY) + 1


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        (ImageQuery(source="url"), [GREEN, RED]),
        (ImageQuery(source="camera"), []),
        (ImageQuery(tag="sea"), [YELLOW, BLUE]),
        (ImageQuery(tag="  BEACH "), [BLUE, RED]),
        (ImageQuery(tag="sea", source="upload", limit=1), [YELLOW, BLUE]),  # a page each
        (ImageQuery(tag="beach", source="url"), [RED]),
    ],
    ids=["url", "camera", "tag", "tag-normalised", "tag-and-source", "tag-and-other-source"],
)
def test_source_and_tag_filters_keep_their_images_and_count_them(
    library: LibraryService, query: ImageQuery, kept: list[ImageRecord]
) -> None:
    pages, totals = every_page(library, query)
    assert [i for page in pages for i in page] == ids(*kept)
    assert totals == {len(kept)}


@pytest.mark.parametrize(
    "query",
    [
        ImageQuery(source="fax"),
        ImageQuery(tag='say "cheese"'),
        ImageQuery(cursor="not a cursor"),
    ],
    ids=["unknown-source", "bad-tag", "bad-cursor"],
)
def test_bad_queries_are_refused(library: LibraryService, query: ImageQuery) -> None:
    with pytest.raises(InvalidInput):
        library.page(query)


def test_a_cursor_only_continues_the_sort_it_came_from(library: LibraryService) -> None:
    cursor = library.page(ImageQuery(sort="newest", limit=1)).next_cursor
    with pytest.raises(InvalidInput, match="sort=newest"):
        library.page(ImageQuery(sort="name", cursor=cursor))


def test_one_image_is_its_catalog_record(library: LibraryService) -> None:
    found = library.image(BLUE.id)
    assert (found.filename, found.ingested_at, found.source, found.tags) == (
        "blue.png",
        2_000,
        "upload",
        ["beach", "sea"],
    )


def test_an_unknown_image_is_not_found_and_a_malformed_id_is_invalid(
    library: LibraryService,
) -> None:
    with pytest.raises(ImageNotFound):
        library.image("0" * 64)
    with pytest.raises(InvalidInput):
        library.image("../" + RED.id)


def assert_tags_everywhere(
    images: ImageCatalog, vectors: FakeVectorStore, image_id: str, tags: list[str]
) -> None:
    assert images.get(image_id).tags == tags
    [indexed] = vectors.get([image_id], with_vectors=True)
    assert indexed.tags == tags
    stored = next(r for r in LIBRARY if r.id == image_id).embedding
    assert indexed.embedding is not None and np.array_equal(indexed.embedding, stored)


def test_set_tags_replaces_them_normalised_in_the_catalog_and_the_index(
    library: LibraryService, images: ImageCatalog, vectors: FakeVectorStore
) -> None:
    now = library.set_tags(BLUE.id, ["  Harbour ", "harbour", "Boats  at  Dusk"])
    assert now == ["boats at dusk", "harbour"]
    assert_tags_everywhere(images, vectors, BLUE.id, now)
    assert library.page(ImageQuery(tag="sea")).total == 1  # BLUE is no longer "sea"


def test_change_tags_adds_and_removes_in_one_step(
    library: LibraryService, images: ImageCatalog, vectors: FakeVectorStore
) -> None:
    now = library.change_tags(BLUE.id, add=["Sunset", "beach"], remove=["SEA", "never had"])
    assert now == ["beach", "sunset"]
    assert_tags_everywhere(images, vectors, BLUE.id, now)


@pytest.mark.parametrize(
    "edit",
    [
        lambda library: library.set_tags(BLUE.id, ["back\\slash"]),
        lambda library: library.set_tags(BLUE.id, [f"tag {n}" for n in range(33)]),
        lambda library: library.change_tags(BLUE.id, add=["x" * 65], remove=[]),
        lambda library: library.change_tags(BLUE.id, add=[f"t{n}" for n in range(31)], remove=[]),
    ],
    ids=["bad-character", "too-many", "too-long", "too-many-after-adding"],
)
def test_a_bad_tag_edit_is_refused_and_changes_nothing(
    library: LibraryService,
    images: ImageCatalog,
    vectors: FakeVectorStore,
    edit: Callable[[LibraryService], object],
) -> None:
    with pytest.raises(InvalidInput):
        edit(library)
    assert_tags_everywhere(images, vectors, BLUE.id, ["beach", "sea"])


def test_tags_of_an_unknown_image_are_not_found(library: LibraryService) -> None:
    with pytest.raises(ImageNotFound):
        library.set_tags("0" * 64, ["a"])
    with pytest.raises(ImageNotFound):
        library.change_tags("0" * 64, ["a"], [])
