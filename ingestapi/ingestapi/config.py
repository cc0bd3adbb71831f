"""ingestapi's settings: conf/common.yaml, conf/ingestapi.yaml, then env (``INGEST__MAX_FILES``).

The byte and pixel caps are shared by every service: ``limits`` (``LIMITS__MAX_BYTES``).
"""

from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import (
    ApiSettings,
    CameraSettings,
    HttpSettings,
    MilvusSettings,
    MinioSettings,
)


class IngestLimits(BaseModel):
    max_files: int = Field(default=100, ge=1, description="files in one request")
    startup_deadline_s: int = Field(
        default=300, ge=1, description="how long to wait for the catalog database at start"
    )
    url_timeout_s: float = Field(default=30, gt=0, description="one URL fetch, redirects included")
    url_allow_private: bool = Field(
        default=False,
        description="fetch URLs on loopback/private addresses too: tests and trusted networks only",
    )


class IngestSettings(ApiSettings):
    service: ClassVar[str] = "ingestapi"

    http: HttpSettings = HttpSettings(port=8000)
    minio: MinioSettings = MinioSettings()
    milvus: MilvusSettings = MilvusSettings()
    ingest: IngestLimits = IngestLimits()
    cameras: CameraSettings = CameraSettings()
