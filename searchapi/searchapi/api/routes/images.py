"""``/api/v1/image``: the library (pages, totals, filters), one image, its tags, its neighbours."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import CameraIdQuery, LibraryDep, LinksDep, PageDep, ServiceDep
from searchapi.api.models import (
    ImageList,
    ImageOut,
    ImageTags,
    SearchResponse,
    TagChange,
    Tags,
)
from shared.catalog.images import ImageQuery
from shared.identity.http import READ, access
from shared.identity.roles import Role
from shared.openapi import ImageId, problems

router = APIRouter(prefix="/api/v1/image", tags=["images"])


@router.get("", response_model=ImageList, responses=problems(400), dependencies=[access(READ)])
async def list_images(
    library: LibraryDep,
    links: LinksDep,
    sort: Literal["newest", "oldest", "name"] = "newest",
    source: Annotated[str | None, Query(description="upload | url | camera")] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    camera_id: CameraIdQuery = None,
    limit: Annotated[int, Query(ge=1, description="images per page (capped)")] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="from next_cursor")] = None,
) -> ImageList:
    """The library, a page at a time; pages are stable while images arrive."""
    query = ImageQuery(sort, source, tag, limit, cursor, camera_id)
    page = await run_in_threadpool(library.page, query)
    return ImageList(
        sort=sort,
        total=page.total,
        next_cursor=page.next_cursor,
        results=[ImageOut.of(r, links) for r in page.records],
    )


@router.get(
    "/{image_id}",
    response_model=ImageOut,
    responses=problems(400, 404),
    dependencies=[access(READ)],
)
async def get_image(image_id: ImageId, library: LibraryDep, links: LinksDep) -> ImageOut:
    return ImageOut.of(await run_in_threadpool(library.image, image_id), links)


@router.put(
    "/{image_id}/tags",
    response_model=ImageTags,
    responses=problems(400, 404),
    dependencies=[access(Role.EDITOR)],
)
async def set_tags(image_id: ImageId, body: Tags, library: LibraryDep) -> ImageTags:
    """Replace the image's tags (search filters on them at once)."""
    tags = await run_in_threadpool(library.set_tags, image_id, body.tags)
    return ImageTags(id=image_id, tags=tags)


@router.patch(
    "/{image_id}/tags",
    response_model=ImageTags,
    responses=problems(400, 404),
    dependencies=[access(Role.EDITOR)],
)
async def change_tags(image_id: ImageId, body: TagChange, library: LibraryDep) -> ImageTags:
    """Add and remove tags in one step."""
    tags = await run_in_threadpool(library.change_tags, image_id, body.add, body.remove)
    return ImageTags(id=image_id, tags=tags)


@router.get(
    "/{image_id}/similar",
    response_model=SearchResponse,
    responses=problems(400, 404),
    dependencies=[access(READ, "search")],
)
async def similar_images(
    image_id: ImageId, service: ServiceDep, links: LinksDep, page: PageDep
) -> SearchResponse:
    """Images that look like this one, best first (matches, then weaker hits, as a search);
    the image itself is excluded."""
    ranking = await run_in_threadpool(service.similar, image_id, page)
    return SearchResponse.build(service.model, None, page, ranking, links)
