"""searchapi's settings: conf/common.yaml, conf/searchapi.yaml, then env (``SEARCH__MAX_LIMIT``)."""

from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import ApiSettings, HttpSettings, MilvusSettings, MinioSettings, ModelSettings


class CutoffOptions(BaseModel):
    """Which hits are matches (``searchapi.service.cutoff``)."""

    pool: int = Field(default=256, ge=1, le=4096, description="most matches a search counts")
    ratio: float = Field(
        default=0.92, gt=0, lt=1, description="how far from the background to the best hit"
    )
    background_sample: int = Field(
        default=512, ge=16, le=4096, description="library vectors a query's background is read on"
    )
    background_max_age_s: float = Field(default=300, gt=0, description="then sampled again")


class SearchOptions(BaseModel):
    max_limit: int = Field(default=100, ge=1, le=1000)
    max_offset: int = Field(default=10_000, ge=0, description="Milvus caps offset + limit at 16384")
    text_cache_size: int = Field(default=4096, ge=0, description="query embeddings kept (LRU)")
    max_query_chars: int = Field(default=500, ge=1)
    startup_deadline_s: int = Field(default=300, ge=1, description="how long to wait for Milvus")
    cutoff: CutoffOptions = CutoffOptions()


class DuplicateOptions(BaseModel):
    """Near-duplicates (``searchapi.service.duplicates``)."""

    max_distance: int = Field(
        default=10, ge=0, le=16, description="bits two perceptual hashes may differ in (of 64)"
    )
    max_groups: int = Field(default=100, ge=1, le=1000, description="groups per page, at most")
    max_age_s: float = Field(
        default=300, gt=0, description="groups found are kept until the hashes change, or this"
    )


class SearchSettings(ApiSettings):
    service: ClassVar[str] = "searchapi"

    http: HttpSettings = HttpSettings(port=8001)
    milvus: MilvusSettings = MilvusSettings()
    minio: MinioSettings = MinioSettings()
    model: ModelSettings = ModelSettings()
    search: SearchOptions = SearchOptions()
    duplicates: DuplicateOptions = DuplicateOptions()
