"""The request id in the worker's logs, in-process: a task of the Celery app the worker builds,
run eagerly (the same signals fire as in the worker), its log output captured as the worker
writes it (JSON lines on stderr)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingestworker.celery_app import create_celery
from ingestworker.config import WorkerSettings
from shared.config import LogSettings
from shared.logging import REQUEST_ID_TASK_HEADER, configure_logging, current_request_id, get_logger

log = get_logger("tests.request_ids")


def _run_logging_task(headers: dict[str, Any] | None, capsys: pytest.CaptureFixture[str]) -> Any:
    """The request id of the line the task logs (None: the line has none)."""
    configure_logging(LogSettings(level="INFO", json_output=True), "tests")
    app = create_celery(WorkerSettings())

    @app.task(name="tests.log_a_line")
    def log_a_line() -> None:
        log.info("inside the task")

    capsys.readouterr()
    log_a_line.apply(headers=headers)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line[:1] == "{"]
    inside = [line for line in lines if line["event"] == "inside the task"]
    assert len(inside) == 1
    return inside[0].get("request_id")


def test_a_task_logs_under_the_request_id_its_message_carries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run_logging_task({REQUEST_ID_TASK_HEADER: "upload-42"}, capsys) == "upload-42"
    assert current_request_id() is None  # dropped once the task ended


@pytest.mark.parametrize("headers", [None, {REQUEST_ID_TASK_HEADER: "two words"}], ids=repr)
def test_a_task_without_a_well_formed_request_id_logs_none(
    capsys: pytest.CaptureFixture[str], headers: dict[str, Any] | None
) -> None:
    assert _run_logging_task({REQUEST_ID_TASK_HEADER: "before"}, capsys) == "before"
    assert _run_logging_task(headers, capsys) is None  # not the previous task's id
