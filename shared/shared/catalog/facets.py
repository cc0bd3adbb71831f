"""What the library can be narrowed to, for the page's filters: the cameras its images came from.

Read from the images themselves (searchable ones only), so anyone who may read the library sees
the cameras in it without the admin-only camera list. A camera's name comes from ``cameras``;
the images of a deleted camera keep its id, and are still listed, with no name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from shared.catalog.db import Catalog
from shared.catalog.models import CameraRow, ImageRow

SEARCHABLE = "indexed"


@dataclass(frozen=True)
class CameraFacet:
    camera_id: str
    name: str | None  # None: the camera was deleted, its images stay
    images: int


class ImageFacets:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def cameras(self) -> list[CameraFacet]:
        """Every camera with at least one searchable image: by name, then unnamed ones by id."""
        query = (
            select(ImageRow.camera_id, CameraRow.name, func.count(ImageRow.id))
            .outerjoin(CameraRow, CameraRow.id == ImageRow.camera_id)
            .where(ImageRow.camera_id.is_not(None), ImageRow.state == SEARCHABLE)
            .group_by(ImageRow.camera_id, CameraRow.name)
        )
        with self._catalog.session() as session:
            rows = session.execute(query).all()
        facets = [CameraFacet(str(camera), name, int(count)) for camera, name, count in rows]
        return sorted(
            facets, key=lambda f: (f.name is None, (f.name or "").casefold(), f.camera_id)
        )
