"""What a soak run does: how many images, how many clients, and which faults, when, how long.

Two sizes: ``SHORT`` runs inside ``make test`` (200 images, outages of seconds, a few minutes);
``FULL`` is ``make soak`` (1,000 images, MinIO and Milvus down for 30 s each). Both keep the
worker's production retry policy (``conf/ingestworker.yaml``), so the soak proves that policy
rides out the outages; only the visibility timeout is shortened, or a SIGKILLed worker's tasks
would wait an hour to be delivered again, and the lost-job sweeper runs more often.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WORKER_KILL = "worker SIGKILL + restart"
REDIS_RESTART = "Redis restart (AOF)"
MINIO_STOP = "MinIO stopped"
MILVUS_STOP = "Milvus stopped"
CATALOG_STOP = "catalog (PostgreSQL) stopped"


@dataclass(frozen=True)
class Fault:
    kind: str
    at_s: float  # seconds after the first upload
    down_s: float = 0.0  # how long the part stays down before it is started again


@dataclass(frozen=True)
class Plan:
    images: int
    clients: int
    upload_span_s: float  # uploads are spread over this long, so every fault meets traffic
    faults: tuple[Fault, ...]
    drain_s: float  # how long the jobs may take to settle once the last fault is over
    # Above the longest retry countdown (60 s), so a held retry is never delivered twice; the
    # sweeper looks for lost messages often enough to find one within the drain.
    worker_env: dict[str, str] = field(
        default_factory=lambda: {
            "WORKER__VISIBILITY_TIMEOUT_S": "90",
            "WORKER__SWEEP_INTERVAL_S": "10",
            "WORKER__SWEEP_AFTER_S": "30",
        }
    )
    duplicate_every: int = 10  # every tenth upload sends an earlier image's bytes again


SHORT = Plan(
    images=200,
    clients=4,
    upload_span_s=80,
    faults=(
        Fault(WORKER_KILL, at_s=6),
        Fault(REDIS_RESTART, at_s=22, down_s=3),
        Fault(MINIO_STOP, at_s=34, down_s=8),
        Fault(MILVUS_STOP, at_s=50, down_s=8),
        Fault(CATALOG_STOP, at_s=70, down_s=6),
    ),
    drain_s=150,
)

FULL = Plan(
    images=1000,
    clients=6,
    upload_span_s=330,
    faults=(
        Fault(WORKER_KILL, at_s=20),
        Fault(REDIS_RESTART, at_s=70, down_s=5),
        Fault(MINIO_STOP, at_s=110, down_s=30),
        Fault(MILVUS_STOP, at_s=170, down_s=30),
        Fault(CATALOG_STOP, at_s=250, down_s=10),
        Fault(WORKER_KILL, at_s=290),
    ),
    drain_s=300,
)
