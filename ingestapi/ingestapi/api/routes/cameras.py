"""``/api/v1/cameras``: an admin keeps the RTSP cameras captures are taken from.

A camera's URL is answered masked; its credentials stay in the catalog. Deleting a camera leaves
its captures (running ones finish with the URL they started with; their ``camera_id`` is null).
"""

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.camera_models import CameraIn, CameraList, CameraOut, CameraPatch
from ingestapi.api.deps import CameraCatalogDep, CamerasDep
from shared.identity.http import access
from shared.identity.roles import Principal, Role
from shared.openapi import UUID_PATTERN, problems

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])
AdminDep = Annotated[Principal, access(Role.ADMIN)]
CameraId = Annotated[str, Path(pattern=UUID_PATTERN)]
REFUSED_URL = {400: "The URL or a default is refused (`invalid-input`): the detail says why"}
TAKEN = {409: "Another camera has this name (`conflict`)"}


@router.get("", response_model=CameraList)
async def list_cameras(cameras: CameraCatalogDep, _: AdminDep) -> CameraList:
    found = await run_in_threadpool(cameras.list)
    return CameraList(cameras=[CameraOut.of(camera) for camera in found])


@router.post(
    "",
    status_code=201,
    response_model=CameraOut,
    responses=problems(400, 409, why=REFUSED_URL | TAKEN),
)
async def create_camera(body: CameraIn, service: CamerasDep, admin: AdminDep) -> CameraOut:
    """A camera on an allowed network (``cameras.allowed_networks``); link-local never is."""
    defaults = body.defaults.model_dump(exclude_none=True)
    camera = await run_in_threadpool(service.create, body.name, body.rtsp_url, defaults, admin.name)
    return CameraOut.of(camera)


@router.get("/{camera_id}", response_model=CameraOut, responses=problems(404))
async def get_camera(camera_id: CameraId, cameras: CameraCatalogDep, _: AdminDep) -> CameraOut:
    return CameraOut.of(await run_in_threadpool(cameras.get, camera_id))


@router.patch(
    "/{camera_id}",
    response_model=CameraOut,
    responses=problems(400, 404, 409, why=REFUSED_URL | TAKEN),
)
async def update_camera(
    camera_id: CameraId, body: CameraPatch, service: CamerasDep, _: AdminDep
) -> CameraOut:
    """Change the name, the URL or the defaults (given defaults replace the old ones)."""
    defaults = None if body.defaults is None else body.defaults.model_dump(exclude_none=True)
    camera = await run_in_threadpool(service.update, camera_id, body.name, body.rtsp_url, defaults)
    return CameraOut.of(camera)


@router.delete("/{camera_id}", status_code=204, responses=problems(404))
async def delete_camera(camera_id: CameraId, service: CamerasDep, _: AdminDep) -> Response:
    """Its captures stay; running ones finish."""
    await run_in_threadpool(service.delete, camera_id)
    return Response(status_code=204)
