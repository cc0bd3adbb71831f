"""The time and size limits uvicorn lacks, so a client cannot hold a connection open for ever
nor make a service read more than it will keep.

uvicorn closes an idle keep-alive connection, but nothing bounds how long a request's headers or
body may take to arrive: a client sending one byte per second keeps its connection, and the
request's task, as long as it likes. Behind the front door Nginx enforces its own limits first;
these two are for whoever reaches a service directly.

- ``HeaderTimeoutProtocol``: a request's headers must be complete within ``header_timeout_s`` of
  the connection opening, or of the end of the previous response on a keep-alive connection; else
  the connection is closed. The clock stops once the headers are in: a slow handler is not cut.
- ``BodyLimitsMiddleware``, time: while a request body is incomplete the server waits at most
  ``seconds`` for the next piece of it, and in all at most ``seconds`` plus one second per
  ``min_rate`` bytes received (a minimum average rate, as Apache's mod_reqtimeout has): a body
  trickling in faster than the pause limit is still cut. Only time spent waiting on the client
  counts. Past the limit the answer is a 408 problem and the connection closes; when the response
  has already started, the connection just closes. Once the body is complete, waiting for the
  client to disconnect (what streaming responses do) is not bounded.
- ``BodyLimitsMiddleware``, size: a multipart upload may be ``max_bytes`` long (what the app's
  upload route can accept: its files and their part headers), any other body 1 MiB. A declared
  Content-Length over the limit is a 413 problem at once, before the app runs or a byte of the
  body is read; a body that goes past it while streaming (chunked, say) is cut there, a 413 when
  the response has not started. Either way the connection closes once the answer is out and what
  the client goes on sending has been dropped for at most ``LINGER_S``.

Deadlines are kept on ``time.monotonic()``: uvloop's timers go by a clock cached once per loop
turn and can fire a few milliseconds early, so a timer that fires early waits out the rest.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.errors import FileTooLarge
from shared.logging import get_logger
from shared.web import problem, problem_for, problem_response

# Bytes per second a request body must average once its first ``seconds`` are spent. Far below
# any real upload (20 MB at this rate takes 11 hours), far above a trickle.
MIN_BODY_RATE = 500
# Any body but a multipart upload (JSON: sign-in, tags, variant parameters, cameras) is small.
MAX_OTHER_BODY_BYTES = 1 << 20
# How long the rest of a body refused as too large is read (and dropped) after the answer.
LINGER_S = 2.0

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


class BodyTooLarge(Exception):
    """Raised from ``receive()`` when the request body went past its size limit."""


class BodyLimitsMiddleware:
    """ASGI middleware bounding request bodies in time and in size (see the module's rules)."""

    def __init__(
        self, app: ASGIApp, seconds: float, max_bytes: int, min_rate: float = MIN_BODY_RATE
    ) -> None:
        if seconds <= 0 or min_rate <= 0 or max_bytes <= 0:
            raise ValueError("the body timeout, minimum rate and size limit must be positive")
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/form-data")
        cap = self.max_bytes if multipart else min(self.max_bytes, MAX_OTHER_BODY_BYTES)
        body = _BodyGuard(scope, receive, send, self.seconds, self.min_rate, cap)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await body.refuse(413, int(declared))  # before a byte of it is read
            return
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            # After our 408 or 413, whatever the app made of the cut-off body is moot. When the
            # response had started, the error reaches uvicorn, which closes the connection.
            if not body.answered:
                raise


class _BodyGuard:
    """One request's ``receive``/``send``, with the body's time allowance and size cap kept."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        seconds: float,
        min_rate: float,
        max_bytes: int,
    ) -> None:
        self._scope, self._receive, self._send = scope, receive, send
        self._seconds, self._min_rate, self._max_bytes = seconds, min_rate, max_bytes
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
            await self.refuse(408, self._received)
            raise BodyTimeout("the request body did not arrive in time")
        self._waited += time.monotonic() - started
        self._received += len(message.get("body", b""))
        if self._received > self._max_bytes:
            await self.refuse(413, self._received)
            raise BodyTooLarge("the request body is over its size limit")
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

    async def refuse(self, status: int, received: int) -> None:
        """Log the cut and answer its problem, closing the connection (what is left of the body
        is never read); when the response has already started, only log."""
        client = self._scope.get("client")
        log.info(
            "request body too slow" if status == 408 else "request body too large",
            client=client[0] if client else None,
            path=self._scope.get("path"),
            received=received,
            waited_s=round(self._waited, 1),
        )
        if self._response_started:
            return
        if status == 408:
            body = problem(
                408,
                "Request timeout",
                f"the request body arrived too slowly: a pause over {self._seconds:g} s, or "
                f"under {self._min_rate:g} bytes/s on average",
                "request-timeout",
            )
        else:
            body = problem_for(FileTooLarge(f"the request is larger than {self._max_bytes} bytes"))
        self.answered = True
        answer = problem_response(body, {"Connection": "close"})
        await self._send(
            {"type": "http.response.start", "status": status, "headers": answer.raw_headers}
        )
        await self._send({"type": "http.response.body", "body": answer.body, "more_body": True})
        if status == 413:
            await self._linger()
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _linger(self) -> None:
        """Read and drop what the client goes on sending, for at most ``LINGER_S``, before the
        connection closes: closing on unread bytes resets the connection, and a reset can
        destroy the answer before the client has read it (Nginx lingers the same way)."""
        deadline = time.monotonic() + LINGER_S
        while (left := deadline - time.monotonic()) > 0:
            message = await self._receive_within(left)
            if message is None or not message.get("more_body", False):
                return  # the client stopped sending, disconnected, or sent it all


def install_body_limits(
    app: Starlette, seconds: float, max_bytes: int, min_rate: float = MIN_BODY_RATE
) -> None:
    """Bound request bodies in ``app`` (a FastAPI or Starlette app): their waits, and their size
    (``max_bytes`` for a multipart upload, at most ``MAX_OTHER_BODY_BYTES`` for any other body).

    Call it before ``install_access_log``: middleware added later wraps what came before, so the
    access log then sees (and counts) the 408s and 413s.
    """
    app.add_middleware(
        BodyLimitsMiddleware, seconds=seconds, max_bytes=max_bytes, min_rate=min_rate
    )
