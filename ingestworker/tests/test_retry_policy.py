"""The retry policy the worker's tasks really get: ``worker.max_retries`` and
``worker.retry_backoff_max_s``, whatever order start-up touches the task classes in.

Each case runs in a fresh interpreter, as the worker starts: Celery binds a task's base class
once per process, so an in-process check would depend on what earlier tests touched. The bug
this pins: wiring the container before the app was built left every task on Celery's default
of 3 retries, and a 30 s outage failed the jobs it caught.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from shared.jobs import INGEST_TASK, VARIANT_TASK
from tests.support.processes import ROOT

PROBE = """
import json
from ingestworker.__main__ import celery_app
from ingestworker.config import WorkerSettings
from ingestworker.container import Container
from shared.jobs import INGEST_TASK, VARIANT_TASK

settings = WorkerSettings()
app = celery_app(settings, Container(settings=settings))
print(json.dumps({
    name: [app.tasks[name].max_retries, app.tasks[name].retry_backoff_max]
    for name in (INGEST_TASK, VARIANT_TASK)
}))
"""


def test_the_worker_app_gives_its_tasks_the_configured_retry_policy() -> None:
    env = {
        **os.environ,
        "CONF_DIR": str(ROOT / "conf"),
        "WORKER__MAX_RETRIES": "17",
        "WORKER__RETRY_BACKOFF_MAX_S": "45",
    }
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    policies = json.loads(probe.stdout.strip().splitlines()[-1])
    assert policies == {INGEST_TASK: [17, 45], VARIANT_TASK: [17, 45]}
