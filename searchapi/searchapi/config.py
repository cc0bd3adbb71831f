"""searchapi's settings: conf/common.yaml, conf/searchapi.yaml, then env (``SEARCH__MAX_LIMIT``)."""

from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import ApiSettings, HttpSettings, MilvusSettings, MinioSettings, ModelSettings


class SearchOptions(BaseModel):
    max_limit: int = Field(default=100, ge=1, le=1000)
    max_offset: int = Field(default=10_000, ge=0, description="Milvus caps offset + limit at 16384")
    text_cache_size: int = Field(default=4096, ge=0, description="query embeddings kept (LRU)")
    max_query_chars: int = Field(default=500, ge=1)
    startup_deadline_s: int = Field(default=300, ge=1, description="how long to wait for Milvus")


class SearchSettings(ApiSettings):
    service: ClassVar[str] = "searchapi"

    http: HttpSettings = HttpSettings(port=8001)
    milvus: MilvusSettings = MilvusSettings()
    minio: MinioSettings = MinioSettings()
    model: ModelSettings = ModelSettings()
    search: SearchOptions = SearchOptions()
