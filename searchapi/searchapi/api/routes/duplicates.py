"""``/api/v1/image/duplicates`` and ``/api/v1/image/{id}/duplicates``: near-duplicates by
perceptual hash (re-encoded, resized, lightly cropped or turned copies of one picture)."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import DuplicatesDep, LinksDep
from searchapi.api.duplicate_models import (
    DuplicateGroupList,
    DuplicateGroupOut,
    DuplicateOut,
    ImageDuplicates,
)
from searchapi.service.duplicates import MAX_DISTANCE
from shared.identity.http import READ, access
from shared.openapi import ImageId, problems

router = APIRouter(prefix="/api/v1/image", tags=["duplicates"])
MaxDistance = Annotated[
    int | None,
    Query(ge=0, le=MAX_DISTANCE, description="bits of 64 that may differ; default in config"),
]


@router.get(
    "/duplicates",
    response_model=DuplicateGroupList,
    responses=problems(400),
    dependencies=[access(READ)],
)
async def duplicate_groups(
    duplicates: DuplicatesDep,
    links: LinksDep,
    max_distance: MaxDistance = None,
    limit: Annotated[int, Query(ge=1, description="groups per page (capped)")] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="from next_cursor")] = None,
) -> DuplicateGroupList:
    """Groups of near-duplicates across the library, most copies first."""
    found = await run_in_threadpool(duplicates.groups, max_distance, limit, cursor)
    return DuplicateGroupList(
        max_distance=found.max_distance,
        groups=[
            DuplicateGroupOut(images=[DuplicateOut.of_duplicate(d, links) for d in group])
            for group in found.groups
        ],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/{image_id}/duplicates",
    response_model=ImageDuplicates,
    responses=problems(
        400, 404, 409, why={409: "the image has no perceptual hash yet (`conflict`)"}
    ),
    dependencies=[access(READ)],
)
async def image_duplicates(
    image_id: ImageId, duplicates: DuplicatesDep, links: LinksDep, max_distance: MaxDistance = None
) -> ImageDuplicates:
    """The near-duplicates of one image, closest first."""
    found = await run_in_threadpool(duplicates.of_image, image_id, max_distance)
    return ImageDuplicates(
        image_id=found.image_id,
        max_distance=found.max_distance,
        duplicates=[DuplicateOut.of_duplicate(d, links) for d in found.duplicates],
    )
