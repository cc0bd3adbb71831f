"""``python -m ingestworker``: check the model and the index, then run the Celery worker.

The worker runs a threads pool in one process, so every job shares one loaded model and the
embedding batcher can put jobs that wait together into one forward pass.
"""

from __future__ import annotations

import os
import socket
import sys

from ingestworker import tasks
from ingestworker.celery_app import create_celery
from ingestworker.config import WorkerSettings
from ingestworker.container import Container
from ingestworker.ops import serve_ops
from shared.errors import ModelMismatch
from shared.jobs import INGEST_QUEUE
from shared.logging import configure_logging, get_logger
from shared.startup import when_available

log = get_logger("ingestworker")
STARTUP_DEADLINE_S = 300


def preflight(container: Container) -> None:
    """Load the model, then wait (bounded) for MinIO and Milvus and open the index for it."""
    embedder = container.embedder()
    embedder.load()
    when_available(container.objects().ensure_bucket, STARTUP_DEADLINE_S)
    collection = when_available(
        lambda: container.vectors().open(embedder.identity), STARTUP_DEADLINE_S
    )
    log.info("index ready", collection=collection, model=embedder.identity.key)


def main() -> None:
    settings = WorkerSettings()
    configure_logging(settings.log, "ingestworker")
    container = Container(settings=settings)
    try:
        preflight(container)
    except ModelMismatch as exc:
        log.error("refusing to start", reason=exc.detail)
        sys.exit(2)
    container.wire(modules=[tasks])
    serve_ops(
        settings.worker.http_host,
        settings.worker.http_port,
        lambda: {
            "redis": container.jobs().ping(),
            "minio": container.objects().ping(),
            "milvus": container.vectors().ping(),
            "model": container.embedder().loaded,
        },
        lambda: {"model": container.embedder().identity.key},
    )
    app = create_celery(settings)
    app.set_current()
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={settings.worker.concurrency}",
            f"--queues={INGEST_QUEUE}",
            f"--hostname=ingest-{os.getpid()}@{socket.gethostname()}",
            f"--loglevel={settings.log.level}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    container.batcher().stop()


if __name__ == "__main__":
    main()
