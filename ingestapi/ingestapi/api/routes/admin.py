"""``/api/v1/admin``: operating the library (admin role)."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.deps import CheckerDep
from ingestapi.api.models import ProblemOut, VerifyOut, VerifyRequest
from shared.identity.http import access
from shared.identity.roles import Role

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.post("/verify", response_model=VerifyOut, dependencies=[access(Role.ADMIN)])
async def verify(body: VerifyRequest, checker: CheckerDep) -> VerifyOut:
    """Compare the catalog, the bytes in MinIO and the index; with ``repair``, mend them."""
    report = await run_in_threadpool(checker.verify, body.repair)
    return VerifyOut(
        counts=report.counts,
        problems=[ProblemOut(**vars(p)) for p in report.problems],
        unrepaired=report.unrepaired,
    )
