"""uvicorn's header and body time limits, against a real uvicorn on a loopback port.

The app is built the way the services build theirs (problem handlers, the body limit, then the
access log), with half-second limits; the clients are raw sockets that send one byte at a time.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

from shared.http_timeouts import BodyLimitsMiddleware, HeaderTimeoutProtocol, install_body_limits
from shared.web import install_access_log, install_problem_handlers
from tests.support.slow_client import connect, trickle

LIMIT_S = 0.5
SLACK_S = 1.0  # a loaded two-core test machine
# The server's clock starts at accept, a moment before connect() returns and the client's starts.
EARLY_S = 0.02


async def answer_then_read(scope: Scope, receive: Receive, send: Send) -> None:
    """Starts its answer before it reads the body: too late for a 408 when the body stalls."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"started", "more_body": True})
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def make_app(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_body_limits(app, LIMIT_S, max_bytes=1 << 20)
    install_access_log(app, registry)

    @app.get("/hello")
    async def hello() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/slow")
    async def slow() -> PlainTextResponse:
        await asyncio.sleep(3 * LIMIT_S)  # the handler's own work, longer than either limit
        return PlainTextResponse("done")

    @app.get("/drip")
    async def drip() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"a", b"b", b"c"):
                await asyncio.sleep(LIMIT_S)
                yield part

        return StreamingResponse(parts())

    @app.post("/echo")
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{len(await request.body())} bytes")

    app.mount("/answer-first", answer_then_read)
    return app


@dataclass
class Served:
    port: int
    registry: CollectorRegistry


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    registry = CollectorRegistry()
    config = uvicorn.Config(
        make_app(registry),
        host="127.0.0.1",
        port=0,
        http=HeaderTimeoutProtocol.with_timeout(LIMIT_S),
        log_config=None,
        lifespan="off",
    )
    sock = config.bind_socket()
    sock.listen(config.backlog)  # a client connecting before the thread runs waits, not refused
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, args=([sock],), daemon=True)
    thread.start()
    yield Served(sock.getsockname()[1], registry)
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_headers_sent_a_byte_at_a_time_are_cut_at_the_limit(served: Served) -> None:
    request = b"GET /hello HTTP/1.1\r\nHost: test\r\nUser-Agent: one-byte-at-a-time\r\n\r\n"
    with connect(served.port) as sock:
        cut = trickle(sock, b"", request, 0.1)
    assert LIMIT_S - EARLY_S <= cut.answered_s <= LIMIT_S + SLACK_S
    assert cut.answer == b""


def test_a_connection_that_never_speaks_is_closed_at_the_limit(served: Served) -> None:
    with connect(served.port) as sock:
        cut = trickle(sock, b"", b"", 0.1)
    assert LIMIT_S - EARLY_S <= cut.answered_s <= LIMIT_S + SLACK_S


def test_keep_alive_serves_several_requests_on_one_connection(served: Served) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    answers, sockets = [], []
    for _ in range(3):
        conn.request("GET", "/hello")
        answers.append(conn.getresponse().read())
        sockets.append(conn.sock)
    conn.close()
    assert answers == [b"hello"] * 3
    assert sockets[0] is sockets[1] is sockets[2]  # http.client reconnects on a closed one


def test_a_handler_slower_than_the_header_limit_still_answers(served: Served) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("GET", "/slow")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"done")
    conn.close()


def test_the_header_clock_restarts_after_each_response_on_keep_alive(served: Served) -> None:
    # The next request trickles in while /slow (longer than the limit) is being answered: its
    # clock starts only once that answer is out, and then cuts it.
    slow = b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n"
    next_request = b"GET /hello HTTP/1.1\r\nHost: test\r\nUser-Agent: one-byte-at-a-time\r\n\r\n"
    with connect(served.port) as sock:
        cut = trickle(sock, slow, next_request, 0.1)
    assert cut.answer.startswith(b"HTTP/1.1 200 OK") and cut.answer.endswith(b"done")
    assert cut.answered_s > LIMIT_S  # /slow outlived the header limit, uncut
    # The server starts the clock on writing the answer, a moment before this client reads it.
    assert LIMIT_S - 0.1 <= cut.closed_s - cut.answered_s <= LIMIT_S + SLACK_S


BODY_HEAD = (
    b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: %d\r\n\r\n"
)


def test_a_body_trickling_in_is_a_408_problem_at_the_limit(served: Served) -> None:
    with connect(served.port) as sock:
        cut = trickle(sock, BODY_HEAD % 1000, b"x" * 1000, 0.05)  # 20 bytes/s, no long pause
    assert LIMIT_S - EARLY_S <= cut.answered_s <= LIMIT_S + SLACK_S
    assert cut.status_line == b"HTTP/1.1 408 Request Timeout"
    head = cut.answer.partition(b"\r\n\r\n")[0].lower()
    assert b"content-type: application/problem+json" in head and b"connection: close" in head
    problem = json.loads(cut.body)
    assert problem["type"] == "urn:imagesearch:problem:request-timeout"
    assert problem["status"] == 408


def test_a_body_that_stops_is_cut_after_the_pause_limit(served: Served) -> None:
    # 100 KB at once earns minutes at the minimum rate: only the pause limit can cut this one.
    sent = b"x" * 100_000
    with connect(served.port) as sock:
        cut = trickle(sock, BODY_HEAD % (len(sent) + 10) + sent, b"", 0.1)
    assert LIMIT_S - EARLY_S <= cut.answered_s <= LIMIT_S + SLACK_S
    assert cut.status_line == b"HTTP/1.1 408 Request Timeout"


def test_the_access_log_counts_the_408s(served: Served) -> None:
    with connect(served.port) as sock:
        trickle(sock, BODY_HEAD % 10, b"", 0.1)
    count = served.registry.get_sample_value(
        "http_requests_total", {"method": "POST", "route": "/echo", "status": "408"}
    )
    assert count is not None and count >= 1


def test_a_body_slower_than_the_limit_in_all_but_steady_is_read_whole(served: Served) -> None:
    # 50 KB over a second: twice the pause limit in all, at a rate far above the minimum.
    with connect(served.port) as sock:
        cut = trickle(sock, BODY_HEAD % 50_000, b"x" * 50_000, 0.1, piece=5_000)
    assert cut.answer.startswith(b"HTTP/1.1 200 OK") and cut.answer.endswith(b"50000 bytes")


def test_after_the_response_started_a_stalled_body_only_closes(served: Served) -> None:
    head = BODY_HEAD.replace(b"/echo", b"/answer-first/") % 10
    with connect(served.port) as sock:
        cut = trickle(sock, head + b"abc", b"", 0.1)
    assert cut.status_line == b"HTTP/1.1 200 OK" and b"started" in cut.answer
    assert b"request-timeout" not in cut.answer
    # Closed through the error path, which logs a traceback first: slower, still bounded.
    assert LIMIT_S <= cut.closed_s < 10


def test_a_streaming_answer_longer_than_the_limit_is_not_cut(served: Served) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("GET", "/drip")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"abc")
    conn.close()


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HeaderTimeoutProtocol.with_timeout(0)
    with pytest.raises(ValueError):
        BodyLimitsMiddleware(FastAPI(), seconds=0, max_bytes=1)
    with pytest.raises(ValueError):
        BodyLimitsMiddleware(FastAPI(), seconds=1, max_bytes=0)
