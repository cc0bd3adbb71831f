"""The app factory: ``uvicorn --factory ingestapi.main:create_app`` or ``python -m ingestapi``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.routes import ingest
from ingestapi.config import IngestSettings
from ingestapi.container import Container
from shared.logging import configure_logging, get_logger
from shared.ops import ops_router
from shared.web import install_access_log, install_problem_handlers

log = get_logger(__name__)


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    configure_logging(settings.log, "ingestapi")
    container = Container(settings=settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(container.objects().ensure_bucket)
        except Exception as exc:  # start anyway; /readyz reports it and uploads answer 503
            log.warning("bucket not ensured at start", error=str(exc))
        yield
        container.queue().close()

    app = FastAPI(title="ingestapi", version="0.1.0", lifespan=lifespan)
    app.state.container = container
    install_problem_handlers(app)
    install_access_log(app, container.metrics())
    app.include_router(ingest.router)
    app.include_router(
        ops_router(
            container.metrics(),
            lambda: {
                "redis": container.jobs().ping(),
                "minio": container.objects().ping(),
                "milvus": container.index().ping(),
            },
        )
    )
    return app
