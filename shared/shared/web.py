"""What both FastAPI services share: RFC 9457 problems and the access log with its metrics.

Every request has an id: the caller's ``X-Request-ID`` when it is well formed (Nginx always sends
one), else a new one. It is in every log line written while the request is served and in the
answer's ``X-Request-ID`` (``shared.logging`` has the rules).

The ops endpoints (``/healthz`` ``/readyz`` ``/metrics``) and the metrics registry are in
``shared.ops``. Needs the ``web`` extra (fastapi, prometheus-client).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException

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

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(
            problem(exc.status_code, title, str(exc.detail), f"http-{exc.status_code}"),
            exc.headers,
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


def install_access_log(app: FastAPI, registry: CollectorRegistry) -> None:
    """One structured line and one metric sample per request, labelled by route template; the
    request's id bound to every log line meanwhile and echoed in the answer.

    The metrics register in ``registry``, the one the app's ``/metrics`` serves.
    """
    requests = Counter(
        "http_requests_total",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["method", "route"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        registry=registry,
    )

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request_id_or_new(request.headers.get(REQUEST_ID_HEADER))
        bind_request_id(request_id)
        request.state.request_id = request_id  # for the 500 handler, which runs outside this
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(request.scope.get("route"), "path", "unmatched")
            requests.labels(request.method, route, str(status)).inc()
            latency.labels(request.method, route).observe(elapsed)
            if route not in ("/healthz", "/metrics"):
                log.info(
                    "request",
                    method=request.method,
                    path=request.url.path,
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 1),
                )
            unbind_request_id()


def serve(app: FastAPI, http: HttpSettings) -> None:
    """Run ``app`` with uvicorn on the configured address; logging stays ours (structlog).

    Headers must arrive within ``http.header_timeout_s`` (bodies are bounded by the app's
    ``install_body_timeout``), and the client address is the one the front door names in
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
    )
