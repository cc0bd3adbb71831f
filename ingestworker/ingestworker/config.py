"""ingestworker's settings: conf/common.yaml, conf/ingestworker.yaml, then env (``WORKER__*``)."""

from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import (
    CameraSettings,
    ComplianceSettings,
    MilvusSettings,
    MinioSettings,
    ModelSettings,
    RedisSettings,
    ServiceSettings,
)


class WorkerOptions(BaseModel):
    concurrency: int = Field(default=8, ge=1, description="jobs in flight (threads)")
    batch_wait_ms: int = Field(default=25, ge=0, description="how long a batch waits to fill")
    max_retries: int = Field(default=10, ge=0, description="for dependency outages")
    retry_backoff_max_s: int = Field(default=60, ge=1)
    startup_deadline_s: int = Field(
        default=300, ge=1, description="how long to wait for MinIO and Milvus at start"
    )
    # Celery's Redis transport re-delivers unacked tasks after this; keep it far above the
    # longest task, or healthy running tasks run twice (docs/architecture.md, "The worker").
    visibility_timeout_s: int = Field(default=3600, ge=5)
    # A worker killed between taking a message and recording it as unacked loses it; the sweeper
    # re-sends such jobs (service/sweeper.py). Far longer than that step takes.
    sweep_interval_s: int = Field(default=60, ge=0, description="look for lost jobs; 0: never")
    sweep_after_s: int = Field(
        default=120, ge=10, description="how long a queued job stays untouched before a look"
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8003, ge=0, le=65535, description="/healthz /readyz /metrics")


class WorkerSettings(ServiceSettings):
    service: ClassVar[str] = "ingestworker"

    minio: MinioSettings = MinioSettings()
    redis: RedisSettings = RedisSettings()
    milvus: MilvusSettings = MilvusSettings()
    model: ModelSettings = ModelSettings()
    worker: WorkerOptions = WorkerOptions()
    compliance: ComplianceSettings = ComplianceSettings()
    cameras: CameraSettings = CameraSettings()
