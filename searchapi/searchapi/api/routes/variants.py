"""``/api/v1/image/{id}/variants`` and ``/api/v1/image/{id}/link``: an image's variants, and
expiring links to its bytes."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import LinksDep, VariantsDep
from searchapi.api.variant_models import Link, VariantList, VariantOut
from shared.identity.http import READ, access
from shared.openapi import IMAGE_ID_PATTERN, ImageId, problems

router = APIRouter(prefix="/api/v1/image", tags=["variants"])
NO_LINKS = "no signing secret (`links-unavailable`), or a store is down (`dependency-unavailable`)"


@router.get(
    "/{image_id}/variants",
    response_model=VariantList,
    responses=problems(400, 404),
    dependencies=[access(READ)],
)
async def list_variants(image_id: ImageId, variants: VariantsDep, links: LinksDep) -> VariantList:
    """Every variant asked for, newest first, in whatever state it is."""
    found = await run_in_threadpool(variants.for_image, image_id)
    return VariantList(image_id=image_id, variants=[VariantOut.of(v, links) for v in found])


@router.get(
    "/{image_id}/link",
    response_model=Link,
    responses=problems(400, 404, 503, why={503: NO_LINKS}),
    dependencies=[access(READ, "search")],
)
async def link(
    image_id: ImageId,
    variants: VariantsDep,
    ttl: Annotated[
        int | None, Query(ge=1, description="seconds; default signing.link_ttl_s")
    ] = None,
    variant: Annotated[
        str | None,
        Query(description="a done variant's id", json_schema_extra={"pattern": IMAGE_ID_PATTERN}),
    ] = None,
    redirect: Annotated[
        Literal["storage"] | None, Query(description="storage: cdnapi answers 307 to MinIO")
    ] = None,
) -> Link:
    """A signed URL of the original (or of a variant) that works until ``expires_at``."""
    url, expires_at = await run_in_threadpool(
        variants.link, image_id, ttl, variant, redirect == "storage"
    )
    return Link(url=url, expires_at=expires_at)
