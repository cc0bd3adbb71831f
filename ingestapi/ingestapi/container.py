"""ingestapi's object graph. Built by ``create_app``; tests build it with other settings."""

import redis
from celery import Celery
from dependency_injector import containers, providers

from ingestapi.config import IngestSettings
from ingestapi.service.fetch import UrlFetcher
from ingestapi.service.images import ImageService
from ingestapi.service.ingest import IngestService
from shared.jobs import JobStore
from shared.storage import ObjectStore
from shared.vectors import VectorStore


def _celery(broker_url: str) -> Celery:
    """A producer-only Celery app: it sends the ingest task by name and never runs it."""
    app = Celery("ingestapi", broker=broker_url, set_as_current=False)
    app.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)
    return app


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestSettings)

    redis_client = providers.Singleton(redis.Redis.from_url, settings.provided.redis.url)
    objects = providers.Singleton(ObjectStore, settings.provided.minio)
    vectors = providers.Singleton(VectorStore, settings.provided.milvus)
    jobs = providers.Singleton(JobStore, redis_client, settings.provided.ingest.job_ttl_s)
    celery = providers.Singleton(_celery, settings.provided.redis.url)

    ingest = providers.Singleton(
        IngestService,
        objects=objects,
        vectors=vectors,
        jobs=jobs,
        celery=celery,
        max_bytes=settings.provided.ingest.max_bytes,
        max_pixels=settings.provided.ingest.max_pixels,
    )
    fetcher = providers.Singleton(
        UrlFetcher,
        max_bytes=settings.provided.ingest.max_bytes,
        timeout_s=settings.provided.ingest.url_timeout_s,
        allow_private=settings.provided.ingest.url_allow_private,
    )
    images = providers.Singleton(ImageService, objects=objects, vectors=vectors, jobs=jobs)
