"""Response bodies of searchapi (docs/architecture.md, "Contracts"). Byte URLs come from
``Links``: plain paths with public reads, signed links with private ones."""

from typing import Any, Self

from pydantic import BaseModel, Field

from searchapi.service.cutoff import Page, Ranked, Ranking
from shared.domain import ImageRecord
from shared.links import Links


class ImageOut(BaseModel):
    id: str
    url: str = Field(description="the original, served by cdnapi (signed if reads are private)")
    thumb_url: str = Field(description="256 px WebP, served by cdnapi (signed likewise)")
    width: int
    height: int
    format: str
    filename: str
    bytes: int
    ingested_at: int = Field(description="unix ms")
    source: str = Field(description="upload | url | camera")
    camera_id: str | None
    captured_at: int | None = Field(description="unix ms a camera frame was taken; else null")
    tags: list[str]
    meta: dict[str, Any] = Field(description='{"exif": {...}}: what the file said about itself')

    @classmethod
    def of(cls, record: ImageRecord, links: Links, **extra: Any) -> Self:
        """The image as answered; ``extra``: a subclass's own fields (a hit's score), so that
        a subclass is built and validated once, not as an ImageOut first."""
        return cls(
            id=record.id,
            url=links.original(record.id),
            thumb_url=links.thumb(record.id),
            width=record.width,
            height=record.height,
            format=record.format,
            filename=record.filename,
            bytes=record.bytes,
            ingested_at=record.ingested_at,
            source=record.source,
            camera_id=record.camera_id,
            captured_at=record.captured_at,
            tags=record.tags,
            meta=record.meta,
            **extra,
        )


class HitOut(ImageOut):
    score: float = Field(description="cosine similarity, higher is closer")
    match: bool = Field(description="a match for the query; false: a weaker hit after the matches")

    @classmethod
    def of_hit(cls, ranked: Ranked, links: Links) -> "HitOut":
        score = round(ranked.hit.score, 6)
        return cls.of(ranked.hit.record, links, score=score, match=ranked.match)


class ModelOut(BaseModel):
    name: str
    weights: str
    demo: bool = Field(description="true for the tiny model trained on coloured shapes")


class SearchResponse(BaseModel):
    query: str | None
    limit: int
    offset: int
    model: ModelOut
    matches: int = Field(description="hits that match the query, on every page")
    results: list[HitOut] = Field(
        description="this page of the ranking: every match, then at most `limit` weaker hits"
    )

    @classmethod
    def build(
        cls,
        model: dict[str, Any],
        query: str | None,
        page: Page,
        ranking: Ranking,
        links: Links,
    ) -> "SearchResponse":
        return cls(
            query=query,
            limit=page.limit,
            offset=page.offset,
            model=ModelOut(**model),
            matches=ranking.matches,
            results=[HitOut.of_hit(ranked, links) for ranked in ranking.hits],
        )


class ImageList(BaseModel):
    sort: str
    total: int = Field(description="images matching the filters, on every page")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")
    results: list[ImageOut]


class Tags(BaseModel):
    tags: list[str] = Field(max_length=64, description="the image's tags, replacing its old ones")


class TagChange(BaseModel):
    add: list[str] = Field(default=[], max_length=64)
    remove: list[str] = Field(default=[], max_length=64)


class ImageTags(BaseModel):
    id: str
    tags: list[str]


class CameraFacetOut(BaseModel):
    camera_id: str
    name: str | None = Field(description="null: the camera was deleted; its images stay")
    images: int = Field(description="searchable images from this camera")


class CameraFacets(BaseModel):
    cameras: list[CameraFacetOut] = Field(description="by name; deleted cameras last")
