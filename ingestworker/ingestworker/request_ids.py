"""The request id in the worker's logs: a task's log lines carry the id of the request that queued
it, which ingestapi sends in the message's headers (``shared.logging`` has the rules).

Celery's threads pool runs task after task on each thread, so the id is bound when a task starts
and dropped when it ends: no job logs under another job's id. A message without a well-formed id
(queued by a tool, or before ids existed) leaves its lines without one.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.signals import task_postrun, task_prerun

from shared.logging import (
    REQUEST_ID_TASK_HEADER,
    bind_request_id,
    unbind_request_id,
    valid_request_id,
)


def bind_for_task(task: Task, **_: Any) -> None:
    headers = task.request.headers or {}
    request_id = valid_request_id(headers.get(REQUEST_ID_TASK_HEADER))
    if request_id:
        bind_request_id(request_id)


def unbind_after_task(**_: Any) -> None:
    unbind_request_id()


def log_request_ids() -> None:
    """Bind each task's request id for the time it runs (in every Celery app of this process)."""
    task_prerun.connect(bind_for_task, weak=False, dispatch_uid="imagesearch.request_id.bind")
    task_postrun.connect(unbind_after_task, weak=False, dispatch_uid="imagesearch.request_id.drop")
