"""``python -m ingestworker``: check the model and the index, then run the Celery worker on the
``ingest`` and ``variants`` queues.

The worker runs a threads pool in one process, so every job shares one loaded model and the
embedding batcher can put jobs that wait together into one forward pass. The ops endpoints
(/healthz /readyz /metrics) run beside Celery on a thread of their own.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping

from ingestworker import tasks, variant_tasks
from ingestworker.celery_app import create_celery
from ingestworker.config import WorkerSettings
from ingestworker.container import Container
from shared.catalog import migrate
from shared.catalog.backfill import backfill_from_index
from shared.errors import ModelMismatch
from shared.exposure import refuse_unsafe_defaults
from shared.jobs import INGEST_QUEUE, VARIANT_QUEUE
from shared.logging import configure_logging, get_logger
from shared.ops import OpsServer, ops_router, redis_answers
from shared.startup import when_available

log = get_logger("ingestworker")


def preflight(container: Container) -> None:
    """Load the model, then wait (bounded) for the catalog, MinIO and Milvus: migrate the catalog,
    open the index for the model, and catalogue a library indexed before the catalog existed."""
    embedder = container.embedder()
    embedder.load()
    deadline = container.settings().worker.startup_deadline_s
    catalog = container.catalog()
    when_available(lambda: migrate.upgrade(catalog), deadline)
    when_available(container.objects().ensure_bucket, deadline)
    with migrate.exclusive(catalog):  # one service at a time upgrades an old index
        collection = when_available(lambda: container.index().open(embedder.identity), deadline)
        copied = backfill_from_index(
            container.images(),
            container.vectors(),
            container.objects(),
            container.settings().limits.max_pixels,
        )
    log.info("index ready", collection=collection, model=embedder.identity.key, backfilled=copied)


def readiness(container: Container) -> Mapping[str, bool]:
    return {
        "redis": redis_answers(container.redis_client()),
        "catalog": container.catalog().ping(),
        "minio": container.objects().ping(),
        "milvus": container.index().ping(),
        "model": container.embedder().loaded,
    }


def main() -> None:
    settings = WorkerSettings()
    configure_logging(settings.log, "ingestworker")
    refuse_unsafe_defaults(settings, "ingestworker")
    container = Container(settings=settings)
    try:
        preflight(container)
    except ModelMismatch as exc:
        log.error("refusing to start", reason=exc.detail)
        sys.exit(2)
    container.wire(modules=[tasks, variant_tasks])
    container.metrics().register(container.backlog())
    router = ops_router(
        container.metrics(),
        lambda: readiness(container),
        lambda: {"model": container.embedder().identity.key},
    )
    ops = OpsServer(router, settings.worker.http_host, settings.worker.http_port).start()
    app = create_celery(settings)
    app.set_current()
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={settings.worker.concurrency}",
            f"--queues={INGEST_QUEUE},{VARIANT_QUEUE}",
            f"--hostname=ingest-{os.getpid()}@{socket.gethostname()}",
            f"--loglevel={settings.log.level}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    container.batcher().stop()
    ops.stop()


if __name__ == "__main__":
    main()
