"""``/api/v1/admin/quarantine``: images a compliance check held back, released or deleted by an
admin."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.deps import QuarantineDep
from ingestapi.api.quarantine_models import HeldImageOut, QuarantineOut, ReleaseAccepted
from shared.identity.http import access
from shared.identity.roles import Principal, Role
from shared.openapi import ImageId, problems

router = APIRouter(prefix="/api/v1/admin/quarantine", tags=["admin"])
AdminDep = Annotated[Principal, access(Role.ADMIN)]
NOT_HELD = {404: "No such image in quarantine (`image-not-found`)"}


@router.get("", response_model=QuarantineOut)
async def list_held(
    service: QuarantineDep,
    _: AdminDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QuarantineOut:
    """The held images, newest first, each with the decisions made about it."""
    page = await run_in_threadpool(service.page, limit, offset)
    return QuarantineOut(images=[HeldImageOut.of(h) for h in page.images], total=page.total)


@router.post(
    "/{image_id}/release",
    status_code=202,
    response_model=ReleaseAccepted,
    responses=problems(400, 404, why=NOT_HELD),
)
async def release(image_id: ImageId, service: QuarantineDep, admin: AdminDep) -> ReleaseAccepted:
    """Make the image searchable: a job indexes it, without the checks."""
    job_id = await run_in_threadpool(service.release, image_id, admin.name)
    return ReleaseAccepted(job_id=job_id)


@router.delete(
    "/{image_id}",
    status_code=204,
    response_class=Response,
    responses=problems(400, 404, why=NOT_HELD),
)
async def delete_held(image_id: ImageId, service: QuarantineDep, admin: AdminDep) -> Response:
    """Remove the held image: its row and its bytes (its decisions stay)."""
    await run_in_threadpool(service.delete, image_id, admin.name)
    return Response(status_code=204)
