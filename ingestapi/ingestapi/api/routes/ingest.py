"""``/api/v1/ingest``: upload images, follow their jobs, delete images."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ingestapi.api.deps import FetcherDep, ImagesDep, IngestDep, SettingsDep
from ingestapi.api.models import IngestResponse, IngestUrl, JobAccepted, JobStatus
from ingestapi.service.ingest import REJECTED, IngestService, Outcome
from shared.identity.http import READ, access
from shared.identity.roles import Role
from shared.openapi import ImageId, JobId, problems
from shared.spool import ReceivedFile
from shared.uploads import multipart_openapi, receive_request_files
from shared.web import problem, problem_for, problem_response

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])


@router.post(
    "",
    status_code=202,
    response_model=IngestResponse,
    responses={202: {"description": "one job (or per-file problem) per file"}},
    dependencies=[access(Role.EDITOR, "ingest")],
    openapi_extra=multipart_openapi(
        "files", many=True, texts={"tags": "tags for every image: one per part, or comma-separated"}
    ),
)
async def ingest(request: Request, service: IngestDep, settings: SettingsDep) -> JSONResponse:
    body = await receive_request_files(
        request,
        field_name="files",
        max_bytes=settings.limits.max_bytes,
        max_files=settings.ingest.max_files,
        text_fields=("tags",),
    )
    tags = [tag for text in body.texts.get("tags", []) for tag in text.split(",")]
    return await _ingest_files(service, body.files, "upload", tags)


@router.post(
    "/url",
    status_code=202,
    response_model=IngestResponse,
    responses={
        202: {"description": "one job (or the problem) for the fetched image"},
        **problems(400, 413, 415, 422),
    },
    dependencies=[access(Role.EDITOR, "ingest")],
)
async def ingest_url(body: IngestUrl, service: IngestDep, fetcher: FetcherDep) -> JSONResponse:
    fetched = await run_in_threadpool(fetcher.fetch, body.url)
    return await _ingest_files(service, [fetched], "url", body.tags)


async def _ingest_files(
    service: IngestService, files: list[ReceivedFile], source: str, tags: list[str]
) -> JSONResponse:
    try:
        outcomes = await run_in_threadpool(service.ingest, files, source, tags)
    finally:
        for part in files:
            part.close()
    jobs = [_accepted(outcome) for outcome in outcomes]
    if all(job.state == REJECTED for job in jobs):
        return _all_rejected(jobs)
    return JSONResponse(IngestResponse(jobs=jobs).model_dump(), status_code=202)


def _accepted(outcome: Outcome) -> JobAccepted:
    return JobAccepted(
        job_id=outcome.job_id,
        image_id=outcome.image_id,
        filename=outcome.filename,
        state=outcome.state,
        problem=problem_for(outcome.error) if outcome.error else None,
    )


def _all_rejected(jobs: list[JobAccepted]) -> JSONResponse:
    """No file was accepted: answer the problem itself, listing each file's."""
    problems = [{"filename": job.filename, **(job.problem or {})} for job in jobs]
    if len({p["status"] for p in problems}) == 1:
        first = jobs[0].problem or {}
        detail = first["detail"] if len(jobs) == 1 else f"no file was accepted: {first['detail']}"
        body = {**first, "detail": detail}
    else:
        body = problem(422, "No file accepted", "every file was rejected; see errors", "rejected")
    return problem_response({**body, "errors": problems})


@router.get(
    "/jobs/{job_id}",
    response_model=JobStatus,
    responses=problems(400, 404),
    dependencies=[access(READ)],
)
async def job_status(job_id: JobId, images: ImagesDep) -> JobStatus:
    job = await run_in_threadpool(images.job, job_id)
    return JobStatus(**{**vars(job), "state": job.state.value})


@router.delete(
    "/images/{image_id}",
    status_code=204,
    responses=problems(
        400, 404, 409, why={409: "An ingest job of the image is still running (`conflict`)"}
    ),
    dependencies=[access(Role.EDITOR)],
)
async def delete_image(image_id: ImageId, images: ImagesDep) -> Response:
    await run_in_threadpool(images.delete, image_id)
    return Response(status_code=204)
