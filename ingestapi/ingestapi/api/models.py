"""Response bodies of ingestapi (docs/architecture.md, "Contracts")."""

from typing import Any

from pydantic import BaseModel, Field, StrictBool


class IngestUrl(BaseModel):
    url: str = Field(
        max_length=2048,
        description="http(s) URL of one image on a public host",
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},  # the fetcher checks the rest
    )
    tags: list[str] = Field(default=[], max_length=32, description="tags for the image")


class JobAccepted(BaseModel):
    job_id: str | None = Field(
        description="poll GET /api/v1/ingest/jobs/{job_id}; null if rejected"
    )
    image_id: str | None
    filename: str
    state: str = Field(description="queued | duplicate | rejected")
    problem: dict[str, Any] | None = Field(default=None, description="RFC 9457 body if rejected")


class IngestResponse(BaseModel):
    jobs: list[JobAccepted]


class VerifyRequest(BaseModel):
    repair: StrictBool = Field(default=False, description="mend what can be mended")


class ProblemOut(BaseModel):
    kind: str
    image_id: str
    detail: str
    repaired: bool


class VerifyOut(BaseModel):
    counts: dict[str, int] = Field(
        description="what each side held when listed (the index listing may lag a second)"
    )
    problems: list[ProblemOut]
    unrepaired: int


class JobStatus(BaseModel):
    job_id: str
    state: str
    image_id: str | None
    filename: str | None
    error: str | None
    created_at: int
    updated_at: int
