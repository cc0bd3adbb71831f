"""Images and jobs in the catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog, ImageQuery
from shared.catalog.jobs import JobStore
from shared.config import DatabaseSettings
from shared.domain import ImageRecord, Job, JobState
from shared.errors import DependencyUnavailable, ImageNotFound, InvalidInput, JobNotFound
from tests.support.processes import free_port


def _image(
    n: int, *, at: int | None = None, name: str | None = None, **extra: object
) -> ImageRecord:
    return ImageRecord(
        id=f"{n:064x}",
        width=100 + n,
        height=50,
        bytes=1000 + n,
        format="PNG",
        filename=name or f"file-{n:03d}.png",
        ingested_at=at if at is not None else 1_700_000_000_000 + n,
        meta={"exif": {"make": "Acme"}},
        **extra,  # type: ignore[arg-type]
    )


def _ids(records: list[ImageRecord]) -> list[int]:
    return [int(r.id, 16) for r in records]


def _all_pages(images: ImageCatalog, query: ImageQuery) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = images.page(ImageQuery(**{**query.__dict__, "cursor": cursor}))
        seen += _ids(page.records)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_an_added_image_reads_back_whole(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(1, source="url", tags=["beach", "2024"])])
    got = images.get(f"{1:064x}")
    assert (got.width, got.height, got.bytes, got.format, got.filename) == (
        101,
        50,
        1001,
        "PNG",
        "file-001.png",
    )
    assert (got.source, got.tags, got.meta) == (
        "url",
        ["2024", "beach"],
        {"exif": {"make": "Acme"}},
    )
    assert images.existing_ids([f"{1:064x}", f"{2:064x}"]) == {f"{1:064x}"}


def test_adding_the_same_image_again_replaces_it(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(1, tags=["a"])])
    images.add([_image(1, tags=["b"])])
    assert images.count() == 1
    assert images.get(f"{1:064x}").tags == ["b"]


def test_deleting_removes_the_row_and_its_tags(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(1, tags=["x"]), _image(2, tags=["x"])])
    assert images.delete(f"{1:064x}") is True
    assert images.delete(f"{1:064x}") is False
    with pytest.raises(ImageNotFound):
        images.get(f"{1:064x}")
    assert _ids(images.page(ImageQuery(tag="x")).records) == [2]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("newest", [3, 1, 2]), ("oldest", [2, 1, 3]), ("name", [1, 3, 2])],
)
def test_pages_are_sorted(catalog: Catalog, sort: str, expected: list[int]) -> None:
    images = ImageCatalog(catalog)
    images.add(
        [
            _image(1, at=20, name="a.png"),
            _image(2, at=10, name="c.png"),
            _image(3, at=30, name="b.png"),
        ]
    )
    page = images.page(ImageQuery(sort=sort))  # type: ignore[arg-type]
    assert (_ids(page.records), page.total, page.next_cursor) == (expected, 3, None)


def test_equal_sort_keys_are_ordered_by_id_and_never_lost_between_pages(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(n, at=5) for n in range(1, 8)])
    assert _all_pages(images, ImageQuery(sort="newest", limit=3)) == [7, 6, 5, 4, 3, 2, 1]
    assert _all_pages(images, ImageQuery(sort="oldest", limit=2)) == [1, 2, 3, 4, 5, 6, 7]


def test_cursor_pages_are_stable_under_inserts(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(n) for n in range(1, 11)])
    first = images.page(ImageQuery(limit=4))
    assert _ids(first.records) == [10, 9, 8, 7]
    images.add([_image(11), _image(12)])  # newer than everything: they belong before page 1
    rest = images.page(ImageQuery(limit=100, cursor=first.next_cursor))
    assert _ids(rest.records) == [6, 5, 4, 3, 2, 1]
    assert rest.total == 12


def test_filters_by_source_and_tag_with_totals(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add(
        [
            _image(1, source="upload", tags=["cat"]),
            _image(2, source="url", tags=["cat", "dog"]),
            _image(3, source="camera", camera_id="cam-1"),
            _image(4, source="url"),
        ]
    )
    assert _ids(images.page(ImageQuery(source="url")).records) == [4, 2]
    assert _ids(images.page(ImageQuery(tag="cat")).records) == [2, 1]
    page = images.page(ImageQuery(source="url", tag="cat"))
    assert (_ids(page.records), page.total) == ([2], 1)
    assert images.page(ImageQuery(tag="nothing")).total == 0


def test_tags_are_replaced_or_changed(catalog: Catalog) -> None:
    images = ImageCatalog(catalog)
    images.add([_image(1, tags=["a", "b"])])
    image_id = f"{1:064x}"
    assert images.set_tags(image_id, ["z", "y", "z"]) == ["y", "z"]
    assert images.change_tags(image_id, add=["x", "y"], remove=["z"]) == ["x", "y"]
    assert images.get(image_id).tags == ["x", "y"]
    with pytest.raises(ImageNotFound):
        images.set_tags(f"{9:064x}", ["a"])


@pytest.mark.parametrize("cursor", ["not-base64!", "e30", "WyJuYW1lIiwiYSIsImIiXQ"])
def test_foreign_or_broken_cursors_are_invalid_input(catalog: Catalog, cursor: str) -> None:
    """Garbage, an empty object, and a valid cursor of sort=name used with sort=newest."""
    with pytest.raises(InvalidInput):
        ImageCatalog(catalog).page(ImageQuery(sort="newest", cursor=cursor))


def test_jobs_keep_their_history(catalog: Catalog) -> None:
    jobs = JobStore(catalog)
    job = Job(
        "0c2b2f5e-0f1c-4c61-9a34-0d7f0b1e2a3b",
        JobState.QUEUED,
        image_id="ab" * 32,
        filename="a.png",
        params={"source": "url", "tags": ["t"]},
    )
    jobs.create(job)
    jobs.set_state(job.job_id, JobState.PROCESSING)
    jobs.set_state(job.job_id, JobState.FAILED, "the image is truncated or corrupt")
    got = jobs.get(job.job_id)
    assert (got.state, got.error, got.kind, got.params) == (
        JobState.FAILED,
        "the image is truncated or corrupt",
        "ingest",
        {"source": "url", "tags": ["t"]},
    )
    assert got.created_at <= got.updated_at
    with pytest.raises(JobNotFound):
        jobs.get("00000000-0000-0000-0000-000000000000")


def test_an_unreachable_database_is_a_dependency_outage() -> None:
    url = f"postgresql+psycopg://app@127.0.0.1:{free_port()}/none"
    catalog = Catalog(DatabaseSettings(url=url, timeout_s=1))
    assert catalog.ping() is False
    with pytest.raises(DependencyUnavailable):
        ImageCatalog(catalog).count()
