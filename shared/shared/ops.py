"""Ops endpoints every service serves, ``/healthz`` ``/readyz`` ``/metrics``, and their registry.

Rules:
- ``/healthz`` says only that the process answers. ``/readyz`` asks the dependencies and answers
  200 or 503 with every check by name, so a probe and an operator both see which one failed.
- Metrics live in a registry made per app by ``new_registry`` and handed to whatever records them;
  nothing registers at import, so two apps in one process keep separate counts.
- ``/metrics`` carries the readiness checks too (``readiness_check{check}``, 1 or 0, asked at
  scrape time), so an alert sees a dependency down as each service sees it.
- The FastAPI apps include ``ops_router``. The Celery worker has no web server, so ``OpsServer``
  serves the same router from a small app of its own on a thread.

Needs the ``web`` extra (fastapi, uvicorn, prometheus-client).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import redis
import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from shared.logging import get_logger
from shared.web import install_problem_handlers

# The classic text format; prometheus-client's CONTENT_TYPE_LATEST moved to 1.0.0 in newer releases.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Readiness = Callable[[], Mapping[str, bool]]
Info = Callable[[], Mapping[str, Any]]

log = get_logger(__name__)


def redis_answers(client: redis.Redis) -> bool:
    """A readiness check of the broker: does Redis answer a PING."""
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def new_registry() -> CollectorRegistry:
    """An empty registry with the process, platform and GC facts the global one carries."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class ReadinessCollector(Collector):
    """``readiness_check{check}``: 1 while a readiness check passes, 0 while it fails."""

    def __init__(self, readiness: Readiness) -> None:
        self._readiness = readiness

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "readiness_check", "1 while the readiness check passes", labels=["check"]
        )
        for check, ok in self._readiness().items():
            gauge.add_metric([check], 1.0 if ok else 0.0)
        yield gauge


def ops_router(
    registry: CollectorRegistry, readiness: Readiness, info: Info | None = None
) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics`` (``registry``'s samples, the readiness
    checks' among them: registered here).

    ``readiness`` and ``info`` may block on the network, so they (and a scrape, which asks
    ``readiness``) run in the thread pool. ``info`` adds facts an operator should see at a
    glance (which model runs) to ``/readyz``.
    """
    registry.register(ReadinessCollector(readiness))
    router = APIRouter(tags=["ops"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = dict(await run_in_threadpool(readiness))
        ready = all(checks.values())
        body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
        if info is not None:
            body |= await run_in_threadpool(info)
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        samples = await run_in_threadpool(generate_latest, registry)
        return Response(samples, media_type=METRICS_CONTENT_TYPE)

    return router


class OpsServer:
    """``router`` on its own port, for a process without a web server (the Celery worker).

    uvicorn runs on a daemon thread. Off the main thread it installs no signal handlers, so the
    process keeps its own (Celery's warm shutdown on SIGTERM). The socket is bound and listening
    before the thread starts: a port already taken stops the caller instead of ending the thread
    quietly, and a probe that connects early waits in the backlog instead of being refused.
    Unknown paths answer the same problem+json 404 as the APIs.
    """

    def __init__(self, router: APIRouter, host: str, port: int) -> None:
        app = FastAPI(title="ops", openapi_url=None, docs_url=None, redoc_url=None)
        install_problem_handlers(app)
        app.include_router(router)
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, lifespan="off", access_log=False
        )
        self._socket = config.bind_socket()
        self._socket.listen(config.backlog)
        # the configured port, or the one the system chose for port 0
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, args=([self._socket],), name="ops-http", daemon=True
        )

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("ops endpoints serving", port=self.port)
        return self

    def stop(self, timeout_s: float = 5) -> None:
        """Finish the requests in flight and close the port."""
        self._server.should_exit = True
        self._thread.join(timeout_s)
        self._socket.close()
