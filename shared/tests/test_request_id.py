"""The request id in the APIs, in-process: an app wired the way the services wire theirs, its log
output captured as they write it (JSON lines on stderr).

A well-formed ``X-Request-ID`` is kept, anything else replaced, a missing one made; the id is in
the answer and in every log line of the request (the access line, the route's own, the 500's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.config import LogSettings
from shared.logging import configure_logging, get_logger
from shared.ops import new_registry
from shared.web import install_access_log, install_problem_handlers

NEW_ID = re.compile(r"[0-9a-f]{32}")
log = get_logger("tests.request_id")
Call = Callable[..., tuple[httpx.Response, list[dict[str, Any]]]]


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_access_log(app, new_registry())

    @app.get("/work")
    def work() -> dict[str, str]:  # a sync route: it logs from a thread of the pool
        log.info("working")
        return {}

    @app.get("/fail")
    def fail() -> None:
        raise RuntimeError("boom")

    return app


@pytest.fixture
def call(capsys: pytest.CaptureFixture[str]) -> Iterator[Call]:
    """GET a path (headers optional); the answer and the JSON log lines written meanwhile."""
    with TestClient(_app(), raise_server_exceptions=False) as client:

        def get(path: str, headers: dict[str, Any] | None = None) -> Any:
            # configured here, in the test itself: pytest swaps the captured stderr between a
            # fixture's setup and the test, and the log handler keeps the stream it was given
            configure_logging(LogSettings(level="INFO", json_output=True), "tests")
            capsys.readouterr()
            response = client.get(path, headers=headers)
            err = capsys.readouterr().err
            lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
            return response, lines

        yield get


def _ids_of(lines: list[dict[str, Any]], *events: str) -> list[Any]:
    return [line.get("request_id") for line in lines if line["event"] in events]


@pytest.mark.parametrize("given", ["0af7651916cd43dd8448eb211c80319c", "upload-7.A_b", "x" * 64])
def test_a_well_formed_request_id_is_kept_echoed_and_logged(call: Call, given: str) -> None:
    response, lines = call("/work", {"X-Request-ID": given})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == given
    assert _ids_of(lines, "working", "request") == [given, given]


@pytest.mark.parametrize(
    "given", ["x" * 65, "two words", 'quo"te', "a;b=c", "ünï".encode(), ""], ids=repr
)
def test_a_malformed_request_id_is_replaced_by_a_new_one(call: Call, given: str | bytes) -> None:
    response, lines = call("/work", {"X-Request-ID": given})
    made = response.headers["X-Request-ID"]
    assert NEW_ID.fullmatch(made) and made != given
    assert _ids_of(lines, "working", "request") == [made, made]


def test_a_request_without_an_id_gets_a_new_one_each_time(call: Call) -> None:
    first, first_lines = call("/work")
    second, _ = call("/work")
    made = first.headers["X-Request-ID"]
    assert NEW_ID.fullmatch(made) and NEW_ID.fullmatch(second.headers["X-Request-ID"])
    assert made != second.headers["X-Request-ID"]
    assert _ids_of(first_lines, "working", "request") == [made, made]


def test_an_unhandled_error_is_logged_under_the_request_id(call: Call) -> None:
    response, lines = call("/fail", {"X-Request-ID": "fails-1"})
    assert response.status_code == 500
    assert _ids_of(lines, "request", "unhandled error") == ["fails-1", "fails-1"]
