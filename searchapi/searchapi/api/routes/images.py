"""``/api/v1/image``: one image's metadata, its neighbours, and the list of indexed images."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import MinScore, PageDep, ServiceDep
from searchapi.api.models import ImageList, ImageOut, SearchResponse

router = APIRouter(prefix="/api/v1/image", tags=["images"])


@router.get("", response_model=ImageList)
async def list_images(service: ServiceDep, page: PageDep) -> ImageList:
    records = await run_in_threadpool(service.images, *page)
    return ImageList(limit=page[0], offset=page[1], results=[ImageOut.of(r) for r in records])


@router.get("/{image_id}", response_model=ImageOut)
async def get_image(image_id: str, service: ServiceDep) -> ImageOut:
    return ImageOut.of(await run_in_threadpool(service.image, image_id))


@router.get("/{image_id}/similar", response_model=SearchResponse)
async def similar_images(
    image_id: str, service: ServiceDep, page: PageDep, min_score: MinScore = None
) -> SearchResponse:
    """Images that look like this one, best first; the image itself is excluded."""
    hits = await run_in_threadpool(service.similar, image_id, *page, min_score)
    return SearchResponse.build(service.model, None, page, hits)
