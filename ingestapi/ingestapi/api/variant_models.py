"""The answer to a variant request: which variant, where it stands, where its bytes will be."""

from typing import Any

from pydantic import BaseModel, Field

from shared.catalog.variants import Variant
from shared.links import Links


class VariantAccepted(BaseModel):
    variant_id: str = Field(description="SHA-256 of the image id and the canonical parameters")
    image_id: str
    state: str = Field(description="queued | processing | done | failed")
    params: dict[str, Any] = Field(description="the canonical parameters (defaults filled in)")
    url: str = Field(description="served by cdnapi once done (signed if reads are private)")
    job_id: str = Field(description="the job rendering it: GET /api/v1/ingest/jobs/{job_id}")

    @classmethod
    def of(cls, variant: Variant, links: Links) -> "VariantAccepted":
        return cls(
            variant_id=variant.variant_id,
            image_id=variant.image_id,
            state=variant.state.value,
            params=variant.params,
            url=links.variant(variant.image_id, variant.variant_id),
            job_id=variant.job_id,
        )
