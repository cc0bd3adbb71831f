"""``python -m ingestworker``: check the model and the index, then run the Celery worker on the
``ingest``, ``variants`` and ``capture`` queues (a capture holds one of the threads while it
streams; ``cameras.max_streams`` bounds how many do, across workers).

The worker runs a threads pool in one process, so every job shares one loaded model and the
batchers can put jobs that wait together into one forward pass and one index + catalog write.
The pool is as large as ``worker.concurrency`` says, or sized for the machine (``config``).
The ops endpoints (/healthz /readyz /metrics) run beside Celery on a thread of their own, and so
does the sweeper that sends again the jobs whose message the broker lost (``service.sweeper``).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping

from celery import Celery

from ingestworker import capture_tasks, tasks, variant_tasks
from ingestworker.celery_app import create_celery
from ingestworker.config import WorkerSettings, decoded_in_flight
from ingestworker.container import Container
from shared.catalog import migrate
from shared.catalog.backfill import backfill_from_index
from shared.compliance import ComplianceConfigError
from shared.errors import ModelMismatch
from shared.exposure import refuse_unsafe_defaults
from shared.jobs import CAPTURE_QUEUE, INGEST_QUEUE, VARIANT_QUEUE
from shared.logging import configure_logging, get_logger
from shared.ops import OpsServer, ops_router, redis_answers
from shared.startup import when_available

log = get_logger("ingestworker")


def preflight(container: Container) -> None:
    """Load the model, then wait (bounded) for the catalog, MinIO and Milvus: migrate the catalog,
    open the index for the model, and catalogue a library indexed before the catalog existed."""
    embedder = container.embedder()
    embedder.load()
    container.gate()  # the configured compliance checks, built now: a bad one stops the start
    deadline = container.settings().worker.startup_deadline_s
    catalog = container.catalog()
    when_available(lambda: migrate.upgrade(catalog), deadline)
    when_available(container.objects().ensure_bucket, deadline)

    def open_index() -> tuple[str, int]:
        # One service at a time upgrades an old index. An outage (the catalog's own, too) lets
        # the lock go and the whole step runs again, rather than ending the start-up.
        with migrate.exclusive(catalog):
            collection = container.index().open(embedder.identity)
            copied = backfill_from_index(
                container.images(),
                container.vectors(),
                container.objects(),
                container.settings().limits.max_pixels,
            )
        return collection, copied

    collection, copied = when_available(open_index, deadline)
    log.info("index ready", collection=collection, model=embedder.identity.key, backfilled=copied)


def readiness(container: Container) -> Mapping[str, bool]:
    return {
        "redis": redis_answers(container.redis_client()),
        "catalog": container.catalog().ping(),
        "minio": container.objects().ping(),
        "milvus": container.index().ping(),
        "model": container.embedder().loaded,
    }


def celery_app(settings: WorkerSettings, container: Container) -> Celery:
    """The Celery app, its tasks built before the container is wired into them. In that order:
    wiring inspects each task's base class, which binds the base to an app, and Celery skips the
    configured annotations (the retry policy) on every task made from an already bound base."""
    app = create_celery(settings)
    app.set_current()
    app.finalize()
    container.wire(modules=[tasks, variant_tasks, capture_tasks])
    return app


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
    except ComplianceConfigError as exc:
        log.error("refusing to start", reason=str(exc))
        sys.exit(2)
    app = celery_app(settings, container)
    container.metrics().register(container.backlog())
    router = ops_router(
        container.metrics(),
        lambda: readiness(container),
        lambda: {"model": container.embedder().identity.key},
    )
    ops = OpsServer(router, settings.worker.http_host, settings.worker.http_port).start()
    sweeper = container.sweeper()
    sweeper.start(settings.worker.sweep_interval_s)
    concurrency = container.concurrency()
    log.info(
        "worker sized",
        concurrency=concurrency,
        max_decoded=decoded_in_flight(settings.worker, concurrency),
        embed_batch=container.embedder().batch_size,
    )
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={INGEST_QUEUE},{VARIANT_QUEUE},{CAPTURE_QUEUE}",
            f"--hostname=ingest-{os.getpid()}@{socket.gethostname()}",
            f"--loglevel={settings.log.level}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    sweeper.stop()
    container.batcher().stop()
    container.writes().stop()
    ops.stop()


if __name__ == "__main__":
    main()
