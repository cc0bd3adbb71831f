"""``/api/v1/image/cameras``: the cameras the library's images came from, with how many each,
so the page can offer a camera filter to anyone who may read (the camera list itself is admin's).
"""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import FacetsDep
from searchapi.api.models import CameraFacetOut, CameraFacets
from shared.identity.http import READ, access

router = APIRouter(prefix="/api/v1/image", tags=["images"])


@router.get("/cameras", response_model=CameraFacets, dependencies=[access(READ, "search")])
async def image_cameras(facets: FacetsDep) -> CameraFacets:
    """Cameras with at least one image in the library (`camera_id` filters search and listing)."""
    found = await run_in_threadpool(facets.cameras)
    return CameraFacets(
        cameras=[CameraFacetOut(camera_id=f.camera_id, name=f.name, images=f.images) for f in found]
    )
