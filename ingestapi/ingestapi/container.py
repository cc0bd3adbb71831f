"""ingestapi's object graph. Built by ``create_app``; tests build it with other settings."""

import redis
from dependency_injector import containers, providers

from ingestapi.config import IngestSettings
from ingestapi.queue import IngestQueue
from ingestapi.service.fetch import UrlFetcher
from ingestapi.service.images import ImageService
from ingestapi.service.ingest import IngestService
from shared.jobs import JobStore
from shared.ops import new_registry
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestSettings)
    metrics = providers.Singleton(new_registry)

    redis_client = providers.Singleton(redis.Redis.from_url, settings.provided.redis.url)
    objects = providers.Singleton(ObjectStore, settings.provided.minio)
    index = providers.Singleton(VectorIndex, settings.provided.milvus)
    vectors = providers.Singleton(VectorStore, index)
    jobs = providers.Singleton(JobStore, redis_client, settings.provided.ingest.job_ttl_s)
    queue = providers.Singleton(IngestQueue, settings.provided.redis.url)

    ingest = providers.Singleton(
        IngestService,
        objects=objects,
        vectors=vectors,
        jobs=jobs,
        queue=queue,
        limits=settings.provided.limits,
    )
    fetcher = providers.Singleton(
        UrlFetcher,
        max_bytes=settings.provided.limits.max_bytes,
        timeout_s=settings.provided.ingest.url_timeout_s,
        allow_private=settings.provided.ingest.url_allow_private,
    )
    images = providers.Singleton(ImageService, objects=objects, vectors=vectors, jobs=jobs)
