"""The catalog copied into one file and put back, on SQLite and PostgreSQL (pg_dump/pg_restore)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.catalog import migrate, snapshot
from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.config import DatabaseSettings
from shared.domain import ImageRecord
from shared.identity.roles import Role
from shared.identity.users import UserStore
from tests.support.catalogs import database_url


def _image(n: int) -> ImageRecord:
    return ImageRecord(
        id=f"{n:064x}",
        width=100 + n,
        height=50,
        bytes=1000 + n,
        format="PNG",
        filename=f"file-{n:03d}.png",
        ingested_at=1_700_000_000_000 + n,
        tags=[f"tag-{n}"],
    )


@pytest.fixture
def other(catalog: Catalog, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    """A second database of the same kind, migrated: an emptied stack's catalog."""
    (tmp_path / "other").mkdir()
    second = Catalog(
        DatabaseSettings(url=database_url(catalog.dialect, request, tmp_path / "other"))
    )
    migrate.upgrade(second)
    yield second
    second.close()


def test_snapshot_names_the_images_and_revision_it_holds(catalog: Catalog, tmp_path: Path) -> None:
    ImageCatalog(catalog).add([_image(1), _image(2)])

    taken = snapshot.dump(catalog, tmp_path)

    assert taken.kind == catalog.dialect
    assert taken.revision == migrate.head()
    assert taken.image_ids == {_image(1).id, _image(2).id}
    assert (tmp_path / snapshot.file_name(catalog.dialect)).stat().st_size > 0


def test_loading_a_snapshot_replaces_the_whole_catalog(
    catalog: Catalog, other: Catalog, tmp_path: Path
) -> None:
    ImageCatalog(catalog).add([_image(1), _image(2)])
    UserStore(catalog).create("alice", "a-password-long-enough", Role.ADMIN)
    UserStore(other).create("bootstrap", "a-password-long-enough", Role.ADMIN)
    taken = snapshot.dump(catalog, tmp_path)

    snapshot.load(other, tmp_path / snapshot.file_name(taken.kind))
    migrate.upgrade(other)

    restored = {r.id: r for r in ImageCatalog(other).get_many(taken.image_ids)}
    assert restored == {r.id: r for r in ImageCatalog(catalog).get_many(taken.image_ids)}
    assert restored[_image(2).id].tags == ["tag-2"]
    assert [u.username for u in UserStore(other).list()] == ["alice"]
    assert migrate.current(other) == migrate.head()


def test_a_catalog_without_a_schema_counts_no_images(empty_catalog: Catalog) -> None:
    assert snapshot.image_count(empty_catalog) == 0


def test_image_count_counts_catalogued_images(catalog: Catalog) -> None:
    ImageCatalog(catalog).add([_image(1), _image(2), _image(3)])
    assert snapshot.image_count(catalog) == 3
