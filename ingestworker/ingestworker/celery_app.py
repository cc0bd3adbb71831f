"""The Celery app, built from settings by ``python -m ingestworker`` (none at import time)."""

from celery import Celery

from ingestworker.broker import survive_lost_connections
from ingestworker.config import WorkerSettings
from ingestworker.request_ids import log_request_ids
from shared.jobs import (
    CAPTURE_QUEUE,
    CAPTURE_TASK,
    INGEST_QUEUE,
    INGEST_TASK,
    VARIANT_QUEUE,
    VARIANT_TASK,
)


def create_celery(settings: WorkerSettings) -> Celery:
    survive_lost_connections()
    tasks = ["ingestworker.tasks", "ingestworker.variant_tasks", "ingestworker.capture_tasks"]
    app = Celery("ingestworker", broker=settings.redis.url, include=tasks)
    options = settings.worker
    retries = {"max_retries": options.max_retries, "retry_backoff_max": options.retry_backoff_max_s}
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        task_ignore_result=True,  # job state lives in our own records (shared.jobs)
        task_default_queue=INGEST_QUEUE,
        task_routes={
            VARIANT_TASK: {"queue": VARIANT_QUEUE},
            CAPTURE_TASK: {"queue": CAPTURE_QUEUE},
        },
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": options.visibility_timeout_s,
            "unacked_restore_interval": 2,
            "unacked_restore_throttle": 1,
        },
        task_annotations={INGEST_TASK: retries, VARIANT_TASK: retries},
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    log_request_ids()
    return app
