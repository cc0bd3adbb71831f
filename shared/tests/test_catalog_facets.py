"""The cameras the library's images came from (the page's camera filter), on SQLite and
PostgreSQL: counted per camera, named from ``cameras``, searchable images only."""

from __future__ import annotations

from sqlalchemy import update

from shared.catalog.db import Catalog
from shared.catalog.facets import CameraFacet, ImageFacets
from shared.catalog.images import ImageCatalog
from shared.catalog.models import CameraRow, ImageRow
from shared.domain import ImageRecord

PORCH, GATE, GONE = (f"{n:08x}-0000-4000-8000-000000000000" for n in (1, 2, 3))


def _image(n: int, camera_id: str | None = None) -> ImageRecord:
    return ImageRecord(
        id=f"{n:064x}",
        width=64,
        height=48,
        bytes=1000,
        format="JPEG",
        filename=f"frame-{n}.jpg",
        ingested_at=1_700_000_000_000 + n,
        source="camera" if camera_id else "upload",
        camera_id=camera_id,
    )


def _add_camera(catalog: Catalog, camera_id: str, name: str) -> None:
    with catalog.session() as session:
        session.add(
            CameraRow(
                id=camera_id,
                name=name,
                rtsp_url="rtsp://127.0.0.1:8554/cam",
                defaults={},
                created_by="admin",
                created_at=1,
                updated_at=1,
            )
        )


def test_cameras_are_counted_named_and_a_deleted_one_listed_last_without_a_name(
    catalog: Catalog,
) -> None:
    _add_camera(catalog, PORCH, "porch")
    _add_camera(catalog, GATE, "Gate")
    _add_camera(catalog, f"{9:08x}-0000-4000-8000-000000000000", "no frames yet")
    ImageCatalog(catalog).add(
        [_image(1, PORCH), _image(2, PORCH), _image(3, GATE), _image(4, GONE), _image(5)]
    )
    assert ImageFacets(catalog).cameras() == [
        CameraFacet(GATE, "Gate", 1),  # by name, whatever its case
        CameraFacet(PORCH, "porch", 2),
        CameraFacet(GONE, None, 1),
    ]


def test_images_that_are_not_searchable_are_not_counted(catalog: Catalog) -> None:
    _add_camera(catalog, PORCH, "porch")
    ImageCatalog(catalog).add([_image(1, PORCH), _image(2, PORCH), _image(3, GATE)])
    with catalog.session() as session:
        held = [f"{2:064x}", f"{3:064x}"]
        session.execute(update(ImageRow).where(ImageRow.id.in_(held)).values(state="quarantined"))
    assert ImageFacets(catalog).cameras() == [CameraFacet(PORCH, "porch", 1)]


def test_a_library_without_camera_images_has_no_cameras(catalog: Catalog) -> None:
    _add_camera(catalog, PORCH, "porch")
    ImageCatalog(catalog).add([_image(1)])
    assert ImageFacets(catalog).cameras() == []
