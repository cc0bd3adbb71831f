"""``/api/v1/admin``: operating the library (admin role once identity lands)."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.deps import CheckerDep
from ingestapi.api.models import ProblemOut, VerifyOut, VerifyRequest

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.post("/verify", response_model=VerifyOut)
async def verify(body: VerifyRequest, checker: CheckerDep) -> VerifyOut:
    """Compare the catalog, the bytes in MinIO and the index; with ``repair``, mend them."""
    report = await run_in_threadpool(checker.verify, body.repair)
    return VerifyOut(
        counts=report.counts,
        problems=[ProblemOut(**vars(p)) for p in report.problems],
        unrepaired=report.unrepaired,
    )
