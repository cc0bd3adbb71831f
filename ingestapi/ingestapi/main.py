"""The app factory: ``uvicorn --factory ingestapi.main:create_app`` or ``python -m ingestapi``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.routes import (
    accounts,
    admin,
    auth,
    cameras,
    captures,
    ingest,
    quarantine,
    variants,
)
from ingestapi.config import IngestSettings
from ingestapi.container import Container
from shared.catalog import migrate
from shared.errors import DependencyUnavailable
from shared.exposure import refuse_unsafe_defaults
from shared.http_timeouts import install_body_limits
from shared.identity.http import install_identity
from shared.logging import configure_logging, get_logger
from shared.openapi import document_api
from shared.ops import ops_router, redis_answers
from shared.startup import when_available
from shared.uploads import request_cap
from shared.web import install_access_log, install_problem_handlers

log = get_logger(__name__)


def _prepare(container: Container) -> None:
    """The catalog must be at the newest schema before the first request (wait for it, bounded);
    the bucket is only wished for: without it uploads answer 503 and /readyz says why."""
    deadline = container.settings().ingest.startup_deadline_s
    when_available(lambda: migrate.upgrade(container.catalog()), deadline)
    try:
        container.objects().ensure_bucket()
    except DependencyUnavailable as exc:
        log.warning("bucket not ensured at start", error=exc.detail)


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    configure_logging(settings.log, "ingestapi")
    refuse_unsafe_defaults(settings, "ingestapi")
    container = Container(settings=settings)
    container.links()  # private reads without a signing secret stop the start here

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_prepare, container)
        yield
        container.queue().close()
        container.catalog().close()

    app = FastAPI(title="ingestapi", version="0.1.0", lifespan=lifespan)
    app.state.container = container
    install_problem_handlers(app)
    upload_cap = request_cap(settings.limits.max_bytes, settings.ingest.max_files)
    install_body_limits(app, settings.http.body_timeout_s, upload_cap)
    install_access_log(app, container.metrics())
    install_identity(app, container.identity)
    app.include_router(ingest.router)
    app.include_router(variants.router)
    app.include_router(captures.router)
    app.include_router(cameras.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(quarantine.router)
    app.include_router(accounts.router)
    app.include_router(
        ops_router(
            container.metrics(),
            lambda: {
                "redis": redis_answers(container.redis_client()),
                "catalog": container.catalog().ping(),
                "minio": container.objects().ping(),
                "milvus": container.index().ping(),
            },
        )
    )
    document_api(app)
    return app
