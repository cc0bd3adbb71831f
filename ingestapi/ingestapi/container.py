"""ingestapi's object graph. Built by ``create_app``; tests build it with other settings."""

import redis
from dependency_injector import containers, providers

from ingestapi.config import IngestSettings
from ingestapi.notices import DeletionNotices
from ingestapi.queue import IngestQueue
from ingestapi.service.cameras import CameraService, CaptureService
from ingestapi.service.fetch import UrlFetcher
from ingestapi.service.images import ImageService
from ingestapi.service.ingest import IngestService
from ingestapi.service.quarantine import QuarantineService
from ingestapi.service.variants import VariantService
from ingestapi.service.verify import LibraryChecker
from shared.catalog.cameras import CameraCatalog, CaptureCatalog
from shared.catalog.compliance import ComplianceCatalog
from shared.catalog.db import Catalog
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.catalog.jobs import JobStore
from shared.catalog.variants import VariantCatalog
from shared.identity.http import build_identity
from shared.links import build_links
from shared.ops import new_registry
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestSettings)
    metrics = providers.Singleton(new_registry)

    # Bounded waits: a Redis that hangs must not hang readiness or a delete's notice.
    redis_client = providers.Singleton(
        redis.Redis.from_url,
        settings.provided.redis.url,
        socket_timeout=2,
        socket_connect_timeout=2,
    )
    objects = providers.Singleton(ObjectStore, settings.provided.minio)
    index = providers.Singleton(VectorIndex, settings.provided.milvus)
    vectors = providers.Singleton(VectorStore, index)
    catalog = providers.Singleton(Catalog, settings.provided.database)
    images = providers.Singleton(ImageCatalog, catalog)
    held_images = providers.Singleton(ImageCatalog, catalog, QUARANTINED)
    jobs = providers.Singleton(JobStore, catalog)
    variants = providers.Singleton(VariantCatalog, catalog)
    cameras = providers.Singleton(CameraCatalog, catalog)
    captures = providers.Singleton(CaptureCatalog, catalog)
    links = providers.Singleton(build_links, settings.provided.auth, settings.provided.signing)
    notices = providers.Singleton(DeletionNotices, redis_client)
    identity = providers.Singleton(build_identity, settings, catalog)
    queue = providers.Singleton(IngestQueue, settings.provided.redis.url)

    ingest = providers.Singleton(
        IngestService,
        objects=objects,
        images=images,
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
    image_service = providers.Singleton(
        ImageService, objects=objects, vectors=vectors, images=images, jobs=jobs, notices=notices
    )
    variant_service = providers.Singleton(
        VariantService,
        images=images,
        variants=variants,
        queue=queue,
        limits=settings.provided.limits,
    )
    camera_service = providers.Singleton(
        CameraService, cameras=cameras, settings=settings.provided.cameras
    )
    capture_service = providers.Singleton(
        CaptureService,
        cameras=cameras,
        captures=captures,
        queue=queue,
        settings=settings.provided.cameras,
    )
    quarantine = providers.Singleton(
        QuarantineService,
        held=held_images,
        decisions=providers.Singleton(ComplianceCatalog, catalog),
        objects=objects,
        requeue=ingest.provided.requeue,
    )
    checker = providers.Singleton(
        LibraryChecker,
        images=images,
        jobs=jobs,
        objects=objects,
        vectors=vectors,
        requeue=ingest.provided.requeue,
        limits=settings.provided.limits,
        held=held_images,
    )
