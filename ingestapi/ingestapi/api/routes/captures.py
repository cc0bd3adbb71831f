"""``/api/v1/ingest/rtsp`` and ``/api/v1/ingest/captures``: capture frames from an RTSP camera.

An editor names a camera; an admin may name an ad-hoc URL instead (the same address policy). The
capture runs on the worker's ``capture`` queue; each kept frame is ingested like an upload.
"""

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.camera_models import CaptureAccepted, CaptureIn, CaptureOut
from ingestapi.api.deps import CaptureCatalogDep, CapturesDep
from shared.identity.http import READ, access
from shared.identity.roles import Principal, Role
from shared.openapi import UUID_PATTERN, problems

router = APIRouter(prefix="/api/v1/ingest", tags=["captures"])
EditorDep = Annotated[Principal, access(Role.EDITOR, "ingest")]
CaptureId = Annotated[str, Path(pattern=UUID_PATTERN)]
REFUSED = {
    400: "Refused (`invalid-input`): not exactly one of camera_id and rtsp_url, a URL outside "
    "the camera networks, or a parameter out of bounds (the detail says the bound)",
    404: "No such camera (`camera-not-found`)",
}


@router.post(
    "/rtsp",
    status_code=202,
    response_model=CaptureAccepted,
    responses=problems(400, 404, why=REFUSED),
)
async def capture_rtsp(body: CaptureIn, service: CapturesDep, editor: EditorDep) -> CaptureAccepted:
    """Queue a capture: one frame (``single_frame``) or one every ``interval_s`` seconds until
    ``max_frames`` are kept or ``duration_s`` has passed. A 403 for an editor's ``rtsp_url``."""
    capture = await run_in_threadpool(
        service.start, editor, body.camera_id, body.rtsp_url, body.requested()
    )
    return CaptureAccepted(
        capture_id=capture.capture_id, state=capture.state.value, camera_id=capture.camera_id
    )


@router.get(
    "/captures/{capture_id}",
    response_model=CaptureOut,
    responses=problems(404),
    dependencies=[access(READ)],
)
async def capture_status(capture_id: CaptureId, captures: CaptureCatalogDep) -> CaptureOut:
    return CaptureOut.of(await run_in_threadpool(captures.get, capture_id))


@router.delete(
    "/captures/{capture_id}",
    status_code=202,
    response_model=CaptureOut,
    responses=problems(404),
    dependencies=[access(Role.EDITOR)],
)
async def cancel_capture(capture_id: CaptureId, service: CapturesDep) -> CaptureOut:
    """Cancel: a queued capture ends now, a running one at its next frame (poll for the state)."""
    return CaptureOut.of(await run_in_threadpool(service.cancel, capture_id))
