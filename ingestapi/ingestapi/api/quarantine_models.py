"""The answers of ``/api/v1/admin/quarantine``."""

from typing import Any

from pydantic import BaseModel, Field

from ingestapi.service.quarantine import HeldImage
from shared.catalog.compliance import Decision


class DecisionOut(BaseModel):
    check: str = Field(description="the configured check's name, or `admin`")
    outcome: str = Field(description="pass | reject | quarantine | release | delete")
    reason: str | None
    details: dict[str, Any] = Field(description="what the check measured (scores, sizes)")
    job_id: str | None
    decided_by: str | None = Field(description="the admin, for a release or a delete")
    decided_at: int = Field(description="unix ms")

    @classmethod
    def of(cls, decision: Decision) -> "DecisionOut":
        return cls(
            check=decision.check,
            outcome=decision.outcome,
            reason=decision.reason,
            details=decision.details,
            job_id=decision.job_id,
            decided_by=decision.decided_by,
            decided_at=decision.decided_at,
        )


class HeldImageOut(BaseModel):
    image_id: str
    filename: str
    format: str
    width: int
    height: int
    bytes: int
    source: str
    camera_id: str | None
    tags: list[str]
    ingested_at: int = Field(description="when it arrived (unix ms)")
    decisions: list[DecisionOut] = Field(description="oldest first")

    @classmethod
    def of(cls, held: HeldImage) -> "HeldImageOut":
        r = held.record
        return cls(
            image_id=r.id,
            filename=r.filename,
            format=r.format,
            width=r.width,
            height=r.height,
            bytes=r.bytes,
            source=r.source,
            camera_id=r.camera_id,
            tags=r.tags,
            ingested_at=r.ingested_at,
            decisions=[DecisionOut.of(d) for d in held.decisions],
        )


class QuarantineOut(BaseModel):
    images: list[HeldImageOut]
    total: int = Field(description="how many images are held")


class ReleaseAccepted(BaseModel):
    job_id: str = Field(description="the job indexing it: GET /api/v1/ingest/jobs/{job_id}")
