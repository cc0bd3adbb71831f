"""What both FastAPI services share: RFC 9457 problems and the access log with its metrics.

Every request has an id: the caller's ``X-Request-ID`` when it is well formed (Nginx always sends
one), else a new one. It is in every log line written while the request is served and in the
answer's ``X-Request-ID`` (``shared.logging`` has the rules).

The ops endpoints (``/healthz`` ``/readyz`` ``/metrics``) and the metrics registry are in
``shared.ops``. Needs the ``web`` extra (fastapi, prometheus-client).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.config import HttpSettings
from shared.errors import (
    Conflict,
    DependencyUnavailable,
    FileTooLarge,
    Forbidden,
    ImageSearchError,
    InvalidImage,
    InvalidInput,
    ModelMismatch,
    NotFound,
    RateLimited,
    Unauthenticated,
    UnsupportedImageType,
    UrlNotFetched,
)
from shared.logging import (
    REQUEST_ID_HEADER,
    bind_request_id,
    get_logger,
    request_id_or_new,
    unbind_request_id,
)

PROBLEM_JSON = "application/problem+json"
log = get_logger("http")

# Most specific first: the first matching class decides the status.
_STATUS: list[tuple[type[ImageSearchError], int, str]] = [
    (FileTooLarge, 413, "File too large"),
    (UnsupportedImageType, 415, "Unsupported media type"),
    (InvalidImage, 422, "Invalid image"),
    (UrlNotFetched, 422, "URL not fetched"),
    (InvalidInput, 400, "Invalid request"),
    (NotFound, 404, "Not found"),
    (Unauthenticated, 401, "Unauthenticated"),
    (Forbidden, 403, "Forbidden"),
    (Conflict, 409, "Conflict"),
    (RateLimited, 429, "Too many requests"),
    (DependencyUnavailable, 503, "Service unavailable"),
    (ModelMismatch, 503, "Model mismatch"),
]


def problem(status: int, title: str, detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"urn:imagesearch:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


def problem_for(exc: ImageSearchError) -> dict[str, Any]:
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return problem(status, title, exc.detail, exc.code)
    return problem(500, "Internal error", "the server failed; the error was logged", "internal")


def problem_response(
    body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


class ModelResponse(Response):
    """A pydantic model as JSON, serialised by pydantic in one pass. A route that returns it
    keeps its ``response_model`` for the OpenAPI document, and skips FastAPI's validating and
    encoding the model again: about 1 ms for a page of 20 hits, on the event loop."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        assert isinstance(content, BaseModel)
        return content.__pydantic_serializer__.to_json(content)


def _headers_for(exc: ImageSearchError) -> dict[str, str] | None:
    if isinstance(exc, DependencyUnavailable):
        return {"Retry-After": "5"}
    if isinstance(exc, Unauthenticated):
        return {"WWW-Authenticate": 'Bearer realm="imagesearch"'}
    if isinstance(exc, RateLimited):
        return exc.headers
    return None


def install_problem_handlers(app: FastAPI) -> None:
    async def domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ImageSearchError)
        body = problem_for(exc)
        if body["status"] >= 500:
            log.warning("dependency problem", error=type(exc).__name__, detail=exc.detail)
        return problem_response(body, _headers_for(exc))

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem_response(
            problem(422, "Invalid request", detail, "validation", errors=errors)
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            problem(exc.status_code, title, str(exc.detail), f"http-{exc.status_code}"), headers
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error", error=type(exc).__name__, request_id=request_id)
        return problem_response(
            problem(500, "Internal error", "the server failed; the error was logged", "internal")
        )

    app.add_exception_handler(ImageSearchError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def allowed_methods(request: Request) -> list[str]:
    """Every method served at the request's path. Starlette's 405 names only the first matching
    route's, and a path here often has one route per method (GET and POST /admin/users)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_access_log(app: FastAPI, registry: CollectorRegistry) -> None:
    """One structured line and one metric sample per request, labelled by route template; the
    request's id bound to every log line meanwhile and echoed in the answer.

    The metrics register in ``registry``, the one the app's ``/metrics`` serves.
    """
    app.add_middleware(AccessLogMiddleware, metrics=HttpMetrics(registry))


class HttpMetrics:
    """The request counter and latency histogram of one app, on its registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )


class AccessLogMiddleware:
    """``install_access_log``'s middleware, a plain ASGI one: it wraps ``send`` and costs no task
    or stream per request (Starlette's ``BaseHTTPMiddleware`` costs both)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_or_new(Headers(scope=scope).get(REQUEST_ID_HEADER))
        bind_request_id(request_id)
        # for the 500 handler, which runs outside this middleware
        scope.setdefault("state", {})["request_id"] = request_id
        echoed = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            unbind_request_id()

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        method = scope["method"]
        route = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(elapsed)
        if route not in ("/healthz", "/metrics"):
            log.info(
                "request",
                method=method,
                path=scope["path"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 1),
            )


def serve(app: FastAPI, http: HttpSettings) -> None:
    """Run ``app`` with uvicorn on the configured address; logging stays ours (structlog).

    Headers must arrive within ``http.header_timeout_s`` (bodies are bounded by the app's
    ``install_body_limits``), and the client address is the one the front door names in
    X-Forwarded-For when the connection comes from ``http.forwarded_allow_ips``.
    """
    import uvicorn

    from shared.http_timeouts import HeaderTimeoutProtocol

    uvicorn.run(
        app,
        host=http.host,
        port=http.port,
        log_config=None,
        http=HeaderTimeoutProtocol.with_timeout(http.header_timeout_s),
        proxy_headers=True,
        forwarded_allow_ips=http.forwarded_allow_ips,
        access_log=False,  # install_access_log writes each request's one line
    )
