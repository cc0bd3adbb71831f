"""``/api/v1/image/search``: by text (GET) or by an uploaded image (POST)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import (
    MAX_QUERY_CHARS,
    FiltersDep,
    LinksDep,
    PageDep,
    ServiceDep,
    SettingsDep,
)
from searchapi.api.models import SearchResponse
from shared.errors import InvalidInput
from shared.identity.http import READ, access
from shared.openapi import bound_by, problems
from shared.uploads import multipart_openapi, receive_request_files
from shared.web import ModelResponse

router = APIRouter(prefix="/api/v1/image", tags=["search"])


@router.get(
    "/search",
    response_model=SearchResponse,
    responses=problems(400),
    dependencies=[access(READ, "search")],
)
async def search_by_text(
    service: ServiceDep,
    links: LinksDep,
    page: PageDep,
    filters: FiltersDep,
    text: Annotated[
        str,
        Query(
            min_length=1,
            description="what to look for, in words",
            json_schema_extra={"pattern": r"\S", **bound_by(maxLength=MAX_QUERY_CHARS)},
        ),
    ],
) -> ModelResponse:
    """Best first: every match, then at most `limit` weaker hits (`match: false`)."""
    ranking = await run_in_threadpool(service.by_text, text, page, filters)
    return ModelResponse(SearchResponse.build(service.model, text.strip(), page, ranking, links))


@router.post(
    "/search",
    response_model=SearchResponse,
    responses=problems(400, 413, 415, 422),
    dependencies=[access(READ, "search")],
    openapi_extra=multipart_openapi("file", many=False),
)
async def search_by_image(
    request: Request,
    service: ServiceDep,
    links: LinksDep,
    settings: SettingsDep,
    page: PageDep,
    filters: FiltersDep,
) -> ModelResponse:
    body = await receive_request_files(
        request, field_name="file", max_bytes=settings.limits.max_bytes, max_files=1
    )
    files = body.files
    if not files:
        raise InvalidInput("send the picture as a multipart part named `file`")
    [upload] = files
    try:
        ranking = await run_in_threadpool(service.by_image, upload, page, filters)
    finally:
        upload.close()
    return ModelResponse(SearchResponse.build(service.model, None, page, ranking, links))
