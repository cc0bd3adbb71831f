"""The request size limit, against a real uvicorn on a loopback port: a declared length over the
limit is refused before any of the body is read, a body streaming past it is cut at the limit,
and either way the connection closes; bodies other than multipart uploads have a small limit.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from shared.http_timeouts import MAX_OTHER_BODY_BYTES, HeaderTimeoutProtocol, install_body_limits
from shared.ops import new_registry
from shared.web import install_access_log, install_problem_handlers
from tests.support.slow_client import connect, trickle

UPLOAD_CAP = 4 * MAX_OTHER_BODY_BYTES  # above the small limit, to tell the two apart
MULTIPART = "multipart/form-data; boundary=b"
SLACK_S = 1.0  # a loaded two-core test machine


@pytest.fixture(scope="module")
def served() -> Iterator[FastAPI]:
    app = FastAPI()
    install_problem_handlers(app)
    install_body_limits(app, 5, UPLOAD_CAP)
    install_access_log(app, new_registry())
    app.state.reached = []

    @app.post("/count")
    async def count(request: Request) -> PlainTextResponse:
        app.state.reached.append(request.headers.get("x-probe"))
        return PlainTextResponse(f"{len(await request.body())} bytes")

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=HeaderTimeoutProtocol.with_timeout(5), log_config=None
    )
    sock = config.bind_socket()
    sock.listen(config.backlog)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, args=([sock],), daemon=True)
    thread.start()
    app.state.port = sock.getsockname()[1]
    yield app
    server.should_exit = True
    thread.join(10)
    sock.close()


def head(probe: str, content_type: str, length: str, close: bool = False) -> bytes:
    """A POST's head: ``length`` as its Content-Length, or chunked when empty."""
    framing = f"Content-Length: {length}" if length else "Transfer-Encoding: chunked"
    connection = "Connection: close\r\n" if close else ""
    return (
        f"POST /count HTTP/1.1\r\nHost: test\r\nX-Probe: {probe}\r\nContent-Type: {content_type}"
        f"\r\n{framing}\r\n{connection}\r\n"
    ).encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def assert_413_and_closed(answer: bytes) -> None:
    status, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert b"connection: close" in headers.lower()
    assert json.loads(body)["type"] == "urn:imagesearch:problem:file-too-large"


def test_a_declared_2_gb_upload_is_refused_at_once_unread(served: FastAPI) -> None:
    with connect(served.state.port) as sock:
        cut = trickle(sock, head("2gb", MULTIPART, str(2 << 30)), b"x" * 30, 0.1)
    assert cut.answered_s < SLACK_S  # from the headers alone
    assert_413_and_closed(cut.answer)
    assert "2gb" not in served.state.reached


def test_a_chunked_upload_past_the_limit_is_cut_at_the_limit(served: FastAPI) -> None:
    piece = b"x" * (1 << 20)
    sent = head("chunked", MULTIPART, "") + chunk(piece) * 4
    with connect(served.state.port) as sock:
        cut = trickle(sock, sent, chunk(piece) * 4, 0.05, piece=1 << 16)
    assert_413_and_closed(cut.answer)
    assert cut.closed_s < cut.last_sent_s + SLACK_S and len(cut.answer) < 1000


def test_a_json_body_over_the_small_limit_is_refused(served: FastAPI) -> None:
    declared = head("json", "application/json", str(MAX_OTHER_BODY_BYTES + 1))
    with connect(served.state.port) as sock:
        cut = trickle(sock, declared, b"", 0.1)
    assert_413_and_closed(cut.answer)
    assert "json" not in served.state.reached


@pytest.mark.parametrize(
    ("content_type", "size"),
    [(MULTIPART, UPLOAD_CAP), ("application/json", MAX_OTHER_BODY_BYTES)],
)
def test_a_body_at_its_limit_is_read_whole(served: FastAPI, content_type: str, size: int) -> None:
    body = b"x" * size
    with connect(served.state.port) as sock:
        cut = trickle(sock, head("whole", content_type, str(size)) + body, b"", 0.1)
    assert cut.status_line == b"HTTP/1.1 200 OK", cut.answer[:200]
    assert cut.body == f"{size} bytes".encode()
