"""``/api/v1/ingest/images/{id}/variants``: ask for a transformed copy of a stored image."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ingestapi.api.deps import LinksDep, VariantsDep
from ingestapi.api.variant_models import VariantAccepted
from shared.catalog.variants import VariantState
from shared.identity.http import access
from shared.identity.roles import Role
from shared.openapi import ImageId, problems
from shared.variants import VariantParams

router = APIRouter(prefix="/api/v1/ingest/images", tags=["variants"])


@router.post(
    "/{image_id}/variants",
    status_code=202,
    response_model=VariantAccepted,
    responses={
        200: {"model": VariantAccepted, "description": "the variant exists and is done"},
        202: {"description": "queued now, or already on its way (no second job)"},
        **problems(400, 404),
    },
    dependencies=[access(Role.EDITOR, "ingest")],
)
async def request_variant(
    image_id: ImageId, params: VariantParams, variants: VariantsDep, links: LinksDep
) -> JSONResponse:
    """Render the image with these parameters, once: the same parameters name the same variant.
    A failed variant asked for again is queued again."""
    requested = await run_in_threadpool(variants.request, image_id, params)
    body = VariantAccepted.of(requested.variant, links)
    done = requested.variant.state == VariantState.DONE
    return JSONResponse(body.model_dump(), status_code=200 if done else 202)
