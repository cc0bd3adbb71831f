"""The app factory: ``uvicorn --factory searchapi.main:create_app`` or ``python -m searchapi``.

The model loads in ``lifespan``, so the first query is not a cold one, and the index is opened
for that model: a collection built by another model stops the start with how to re-index.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from searchapi.api.deps import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS
from searchapi.api.routes import cameras, duplicates, images, search, variants
from searchapi.config import SearchSettings
from searchapi.container import Container
from shared.catalog import migrate
from shared.exposure import refuse_unsafe_defaults
from shared.http_timeouts import install_body_limits
from shared.identity.http import install_identity
from shared.logging import configure_logging, get_logger
from shared.openapi import document_api
from shared.ops import ops_router
from shared.startup import when_available
from shared.uploads import request_cap
from shared.web import install_access_log, install_problem_handlers

log = get_logger(__name__)


def _prepare(container: Container) -> None:
    embedder = container.embedder()
    embedder.load()
    deadline = container.settings().search.startup_deadline_s
    catalog = container.catalog()
    when_available(lambda: migrate.upgrade(catalog), deadline)
    with migrate.exclusive(catalog):  # one service at a time upgrades an old index
        collection = when_available(lambda: container.index().open(embedder.identity), deadline)
    log.info("ready to search", collection=collection, model=embedder.identity.key)


def _readiness(container: Container) -> Mapping[str, bool]:
    index = container.index()
    reachable = index.ping()
    return {
        "catalog": container.catalog().ping(),
        "milvus": reachable,
        "model": container.embedder().loaded,
        # A re-index moved the alias to another model's collection: restart with that model.
        "index_current": reachable and index.opened == index.target(),
    }


def create_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()
    configure_logging(settings.log, "searchapi")
    refuse_unsafe_defaults(settings, "searchapi")
    container = Container(settings=settings)
    container.links()  # private reads without a signing secret stop the start here

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_prepare, container)
        yield
        container.catalog().close()

    app = FastAPI(title="searchapi", version="0.1.0", lifespan=lifespan)
    app.state.container = container
    install_problem_handlers(app)
    upload_cap = request_cap(settings.limits.max_bytes, 1)
    install_body_limits(app, settings.http.body_timeout_s, upload_cap)
    install_access_log(app, container.metrics())
    install_identity(app, container.identity)
    app.include_router(search.router)
    # before images: /duplicates and /cameras are not an {image_id}
    app.include_router(duplicates.router)
    app.include_router(cameras.router)
    app.include_router(images.router)
    app.include_router(variants.router)
    app.include_router(
        ops_router(
            container.metrics(),
            lambda: _readiness(container),
            lambda: {"model": container.search().model} if container.embedder().loaded else {},
        )
    )
    document_api(app, settings.search.model_dump(include={MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS}))
    return app
