"""ingestworker's settings: conf/common.yaml, conf/ingestworker.yaml, then env (``WORKER__*``)."""

import os
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
    concurrency: int = Field(
        default=0, ge=0, description="jobs in flight (threads); 0 = sized for the machine"
    )
    max_decoded: int = Field(
        default=0, ge=0, description="decoded pictures in memory at once; 0 = two per core"
    )
    batch_wait_ms: int = Field(default=25, ge=0, description="how long a batch waits to fill")
    write_batch: int = Field(default=64, ge=1, description="images per index + catalog write")
    write_wait_ms: int = Field(default=20, ge=0, description="how long a write waits for company")
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


def jobs_in_flight(options: WorkerOptions, device: str, batch_size: int) -> int:
    """The configured concurrency, else sized for this machine, the model's ``device`` and its
    forward pass's ``batch_size``. On the CPU the forward pass is the costly step, and a small
    batch costs up to twice as much per picture as a full one (ViT-B-32: 245 core-ms at 4, 170
    at 16): a full batch waits while the one before it runs and the cores decode the next, so
    ``batch_size`` + 4 per core. On CUDA the forward pass is nearly free and the cores alone set
    the pace: 6 per core. A waiting job costs a thread and its staged bytes, not a picture
    (``decoded_in_flight``); past ~300 images/s the GIL, not the jobs in flight, is the limit
    (more processes are the way on)."""
    if options.concurrency:
        return options.concurrency
    cores = _cores()
    if device == "cuda":
        return max(8, 6 * cores)
    return max(8, batch_size + 4 * cores)


def decoded_in_flight(options: WorkerOptions, concurrency: int) -> int:
    """The configured bound, else two pictures per core: decoding is CPU work, so more at once
    only holds more memory (a decoded picture can be ``limits.max_pixels`` × 3 bytes)."""
    return options.max_decoded or min(concurrency, max(4, 2 * _cores()))


def minio_connections(concurrency: int) -> int:
    """Connections kept open to MinIO: every job thread may call at once, and so may the
    sweeper and /readyz."""
    return concurrency + 2


def _cores() -> int:
    return len(os.sched_getaffinity(0))
