"""Quarantined images and compliance decisions in the catalog, on SQLite and PostgreSQL: a held
image is absent from every read of the library, present to the quarantine's, and released by
writing it through the library's catalog."""

from __future__ import annotations

import pytest

from shared.catalog.compliance import ComplianceCatalog, Decision
from shared.catalog.db import Catalog
from shared.catalog.images import QUARANTINED, ImageCatalog, ImageQuery
from shared.catalog.jobs import JobStore
from shared.domain import ImageRecord, Job, JobState
from shared.errors import ImageNotFound


def _image(n: int) -> ImageRecord:
    return ImageRecord(
        id=f"{n:064x}",
        width=100,
        height=50,
        bytes=1000,
        format="PNG",
        filename=f"file-{n}.png",
        ingested_at=1_700_000_000_000 + n,
        meta={"exif": {}},
        tags=["red"],
        phash="00000000000000ff",
    )


@pytest.fixture
def library(catalog: Catalog) -> ImageCatalog:
    return ImageCatalog(catalog)


@pytest.fixture
def held(catalog: Catalog) -> ImageCatalog:
    return ImageCatalog(catalog, QUARANTINED)


def test_a_held_image_is_absent_from_every_read_of_the_library(
    library: ImageCatalog, held: ImageCatalog
) -> None:
    library.add([_image(1)])
    held.add([_image(2)])
    held_id = f"{2:064x}"
    assert [r.id for r in library.page(ImageQuery()).records] == [f"{1:064x}"]
    assert library.page(ImageQuery(tag="red")).total == 1
    assert library.count() == 1
    assert [h.id for h in library.hashed()] == [f"{1:064x}"]
    assert library.hashed_stamp() == (1, 1_700_000_000_001)
    assert [i for batch in library.ids() for i in batch] == [f"{1:064x}"]
    assert library.existing_ids([held_id]) == set()
    assert library.get_many([held_id]) == []
    with pytest.raises(ImageNotFound):
        library.get(held_id)
    with pytest.raises(ImageNotFound):
        library.set_tags(held_id, ["x"])
    assert library.delete(held_id) is False
    assert held.get(held_id).tags == ["red"]  # still held


def test_the_quarantine_sees_only_held_images(library: ImageCatalog, held: ImageCatalog) -> None:
    library.add([_image(1)])
    held.add([_image(2)])
    assert held.count() == 1
    assert held.existing_ids([f"{1:064x}", f"{2:064x}"]) == {f"{2:064x}"}


def test_holding_an_image_ends_its_job_quarantined(catalog: Catalog, held: ImageCatalog) -> None:
    jobs = JobStore(catalog)
    jobs.create(Job("00000000-0000-0000-0000-000000000001", JobState.PROCESSING))
    held.add([_image(2)], finished_jobs=["00000000-0000-0000-0000-000000000001"])
    assert jobs.get("00000000-0000-0000-0000-000000000001").state is JobState.QUARANTINED


def test_a_release_writes_the_held_row_into_the_library(
    library: ImageCatalog, held: ImageCatalog
) -> None:
    held.add([_image(2)])
    library.add([held.get(f"{2:064x}")])
    assert library.get(f"{2:064x}").filename == "file-2.png"
    assert held.count() == 0


def test_decisions_are_kept_per_image_oldest_first(catalog: Catalog) -> None:
    decisions = ComplianceCatalog(catalog)
    image = f"{7:064x}"
    decisions.record(
        [
            Decision(image, "reds", "quarantine", "matches", {"scores": {"a red": 0.4}}, "j1"),
            Decision(image, "gps", "pass", job_id="j1"),
        ]
    )
    decisions.record([Decision(image, "admin", "release", decided_by="root")])
    history = decisions.history([image, f"{8:064x}"])
    assert list(history) == [image]
    got = [(d.check, d.outcome, d.details, d.decided_by) for d in history[image]]
    assert got == [
        ("reds", "quarantine", {"scores": {"a red": 0.4}}, None),
        ("gps", "pass", {}, None),
        ("admin", "release", {}, "root"),
    ]
    assert all(d.decided_at > 0 for d in history[image])


def test_held_ids_page_newest_first_with_the_total(
    catalog: Catalog, library: ImageCatalog, held: ImageCatalog
) -> None:
    library.add([_image(1)])
    held.add([_image(n) for n in (2, 3, 4)])
    decisions = ComplianceCatalog(catalog)
    assert decisions.held_ids(limit=2, offset=0) == ([f"{4:064x}", f"{3:064x}"], 3)
    assert decisions.held_ids(limit=2, offset=2) == ([f"{2:064x}"], 3)
