"""Response bodies of an image's variants and of the links handed out for its bytes."""

from typing import Any

from pydantic import BaseModel, Field

from shared.catalog.variants import Variant
from shared.links import Links


class VariantOut(BaseModel):
    variant_id: str
    params: dict[str, Any] = Field(description="the canonical parameters it was rendered with")
    state: str = Field(description="queued | processing | done | failed")
    url: str = Field(description="served by cdnapi once done (signed if reads are private)")
    mime: str | None = Field(description="once done")
    width: int | None
    height: int | None
    bytes: int | None
    error: str | None = Field(description="why it failed")
    created_at: int = Field(description="unix ms")
    updated_at: int = Field(description="unix ms")

    @classmethod
    def of(cls, variant: Variant, links: Links) -> "VariantOut":
        return cls(
            variant_id=variant.variant_id,
            params=variant.params,
            state=variant.state.value,
            url=links.variant(variant.image_id, variant.variant_id),
            mime=variant.mime,
            width=variant.width,
            height=variant.height,
            bytes=variant.bytes,
            error=variant.error,
            created_at=variant.created_at,
            updated_at=variant.updated_at,
        )


class VariantList(BaseModel):
    image_id: str
    variants: list[VariantOut] = Field(description="newest first")


class Link(BaseModel):
    url: str = Field(description="a cdnapi URL signed until expires_at, even with public reads")
    expires_at: int = Field(description="unix seconds; the link answers 403 from then on")
