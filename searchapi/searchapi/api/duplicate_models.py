"""Response bodies of near-duplicate search: groups across the library, and one image's copies."""

from pydantic import BaseModel, Field

from searchapi.api.models import ImageOut
from searchapi.service.duplicates import Duplicate
from shared.links import Links


class DuplicateOut(ImageOut):
    distance: int = Field(
        description="bits (of 64) its perceptual hash differs in from the group's first image, "
        "or from the image asked about"
    )

    @classmethod
    def of_duplicate(cls, duplicate: Duplicate, links: Links) -> "DuplicateOut":
        return cls.of(duplicate.record, links, distance=duplicate.distance)


class DuplicateGroupOut(BaseModel):
    images: list[DuplicateOut] = Field(
        description="the largest copy first (most pixels, then most bytes)"
    )


class DuplicateGroupList(BaseModel):
    max_distance: int
    groups: list[DuplicateGroupOut] = Field(description="most copies first")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")


class ImageDuplicates(BaseModel):
    image_id: str
    max_distance: int
    duplicates: list[DuplicateOut] = Field(description="closest first; the image itself left out")
