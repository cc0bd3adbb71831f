"""The time limits uvicorn lacks, so a slow client cannot hold a connection open for ever.

uvicorn closes an idle keep-alive connection, but nothing bounds how long a request's headers or
body may take to arrive: a client sending one byte per second keeps its connection, and the
request's task, as long as it likes. Behind the front door Nginx enforces its own limits first;
these two are for whoever reaches a service directly.

- ``HeaderTimeoutProtocol``: a request's headers must be complete within ``header_timeout_s`` of
  the connection opening, or of the end of the previous response on a keep-alive connection; else
  the connection is closed. The clock stops once the headers are in: a slow handler is not cut.
- ``BodyTimeoutMiddleware``: while a request body is incomplete the server waits at most
  ``seconds`` for the next piece of it, and in all at most ``seconds`` plus one second per
  ``min_rate`` bytes received (a minimum average rate, as Apache's mod_reqtimeout has): a body
  trickling in faster than the pause limit is still cut. Only time spent waiting on the client
  counts. Past the limit the answer is a 408 problem and the connection closes; when the response
  has already started, the connection just closes. Once the body is complete, waiting for the
  client to disconnect (what streaming responses do) is not bounded.

Deadlines are kept on ``time.monotonic()``: uvloop's timers go by a clock cached once per loop
turn and can fire a few milliseconds early, so a timer that fires early waits out the rest.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.logging import get_logger
from shared.web import problem, problem_response

# Bytes per second a request body must average once its first ``seconds`` are spent. Far below
# any real upload (20 MB at this rate takes 11 hours), far above a trickle.
MIN_BODY_RATE = 500

log = get_logger("http")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's default HTTP/1.1 protocol, closing connections whose headers come too slowly.

    Pass ``HeaderTimeoutProtocol.with_timeout(seconds)`` as uvicorn's ``http``.
    """

    header_timeout_s: float = 10.0

    @classmethod
    def with_timeout(cls, seconds: float) -> type[HeaderTimeoutProtocol]:
        if seconds <= 0:
            raise ValueError("the header timeout must be positive")
        return type(cls.__name__, (cls,), {"header_timeout_s": seconds})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_deadline = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_clock()

    def on_headers_complete(self) -> None:
        self._stop_header_clock()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already parsed has its headers: only an idle connection waits.
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._header_deadline = time.monotonic() + self.header_timeout_s
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        if (early := self._header_deadline - time.monotonic()) > 0:
            self._header_timer = self.loop.call_later(early, self._headers_too_slow)
            return
        self._header_timer = None
        if not self.transport.is_closing():
            host = self.client[0] if self.client else None
            log.info("request headers too slow", client=host, limit_s=self.header_timeout_s)
            self.transport.close()


class BodyTimeout(Exception):
    """Raised from ``receive()`` when the request body stopped arriving in time."""


class BodyTimeoutMiddleware:
    """ASGI middleware bounding the waits for a request body (see the module's rules)."""

    def __init__(self, app: ASGIApp, seconds: float, min_rate: float = MIN_BODY_RATE) -> None:
        if seconds <= 0 or min_rate <= 0:
            raise ValueError("the body timeout and minimum rate must be positive")
        self.app = app
        self.seconds = seconds
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _BodyClock(scope, receive, send, self.seconds, self.min_rate)
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            # After our 408, whatever the app made of the cut-off body is moot. When the
            # response had started, the error reaches uvicorn, which closes the connection.
            if not body.answered:
                raise


class _BodyClock:
    """One request's ``receive``/``send``, with the body's time allowance kept."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, seconds: float, min_rate: float
    ) -> None:
        self._scope, self._receive, self._send = scope, receive, send
        self._seconds, self._min_rate = seconds, min_rate
        self._waited = 0.0
        self._received = 0
        self._body_complete = False
        self._response_started = False
        self.answered = False

    async def receive(self) -> Message:
        if self._body_complete:
            return await self._receive()
        allowance = self._seconds + self._received / self._min_rate - self._waited
        started = time.monotonic()
        message = await self._receive_within(min(self._seconds, allowance))
        if message is None:
            await self._too_slow()
            raise BodyTimeout("the request body did not arrive in time")
        self._waited += time.monotonic() - started
        self._received += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_complete = True
        return message

    async def _receive_within(self, seconds: float) -> Message | None:
        """The next message, or None when ``seconds`` pass first. The wait runs in a task of
        its own, cancelled only once the time is up: a cancelled ``receive()`` may drop a
        piece of the body it had already taken, harmless only when the request is over."""
        deadline = time.monotonic() + seconds
        pending = asyncio.ensure_future(self._receive())
        try:
            while not pending.done() and (left := deadline - time.monotonic()) > 0:
                await asyncio.wait({pending}, timeout=left)
        finally:
            if not pending.done():
                pending.cancel()
        return pending.result() if pending.done() else None

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self._response_started = True
        await self._send(message)

    async def _too_slow(self) -> None:
        client = self._scope.get("client")
        log.info(
            "request body too slow",
            client=client[0] if client else None,
            path=self._scope.get("path"),
            received=self._received,
            waited_s=round(self._waited, 1),
        )
        if self._response_started:
            return
        detail = (
            f"the request body arrived too slowly: a pause over {self._seconds:g} s, or under "
            f"{self._min_rate:g} bytes/s on average"
        )
        response = problem_response(
            problem(408, "Request timeout", detail, "request-timeout"), {"Connection": "close"}
        )
        self.answered = True
        await response(self._scope, self._receive, self._send)


def install_body_timeout(app: Starlette, seconds: float, min_rate: float = MIN_BODY_RATE) -> None:
    """Bound the waits for request bodies in ``app`` (a FastAPI or Starlette app).

    Call it before ``install_access_log``: middleware added later wraps what came before, so the
    access log then sees (and counts) the 408s.
    """
    app.add_middleware(BodyTimeoutMiddleware, seconds=seconds, min_rate=min_rate)
