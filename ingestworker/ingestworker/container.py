"""ingestworker's object graph, built in the worker process by ``python -m ingestworker``."""

import redis
from dependency_injector import containers, providers

from ingestworker.config import (
    WorkerSettings,
    decoded_in_flight,
    jobs_in_flight,
    minio_connections,
)
from ingestworker.frame_queue import FrameQueue
from ingestworker.service.backlog import BacklogCollector
from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.capture import CaptureService
from ingestworker.service.compliance import ComplianceGate, build_checks
from ingestworker.service.pipeline import IngestPipeline
from ingestworker.service.stream_slots import StreamSlots
from ingestworker.service.sweeper import BrokerTaskIds, JobSweeper
from ingestworker.service.variants import VariantRenderer
from ingestworker.service.writes import WriteBatcher
from shared.catalog.cameras import CaptureCatalog
from shared.catalog.compliance import ComplianceCatalog
from shared.catalog.db import Catalog
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.catalog.jobs import JobStore
from shared.catalog.variants import VariantCatalog
from shared.embedding import ClipEmbedder
from shared.intake import Intake
from shared.jobs import CAPTURE_QUEUE, INGEST_QUEUE, VARIANT_QUEUE
from shared.ops import new_registry
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=WorkerSettings)
    metrics = providers.Singleton(new_registry)

    redis_client = providers.Singleton(redis.Redis.from_url, settings.provided.redis.url)
    embedder = providers.Singleton(ClipEmbedder, settings.provided.model)
    concurrency = providers.Singleton(
        jobs_in_flight,
        settings.provided.worker,
        embedder.provided.device,
        embedder.provided.batch_size,
    )
    objects = providers.Singleton(
        ObjectStore,
        settings.provided.minio,
        connections=providers.Callable(minio_connections, concurrency),
    )
    index = providers.Singleton(VectorIndex, settings.provided.milvus)
    vectors = providers.Singleton(VectorStore, index)
    catalog = providers.Singleton(Catalog, settings.provided.database)
    images = providers.Singleton(ImageCatalog, catalog)
    jobs = providers.Singleton(JobStore, catalog)
    variants = providers.Singleton(VariantCatalog, catalog)
    backlog = providers.Singleton(
        BacklogCollector, redis_client, jobs, queues=(INGEST_QUEUE, VARIANT_QUEUE, CAPTURE_QUEUE)
    )
    batcher = providers.Singleton(
        EmbeddingBatcher,
        embedder=embedder,
        max_batch=embedder.provided.batch_size,
        max_wait_ms=settings.provided.worker.batch_wait_ms,
        registry=metrics,
    )
    writes = providers.Singleton(
        WriteBatcher,
        vectors=vectors,
        images=images,
        jobs=jobs,
        objects=objects,
        max_batch=settings.provided.worker.write_batch,
        max_wait_ms=settings.provided.worker.write_wait_ms,
        registry=metrics,
    )
    gate = providers.Singleton(
        ComplianceGate,
        checks=providers.Singleton(build_checks, settings.provided.compliance.checks, embedder),
        decisions=providers.Singleton(ComplianceCatalog, catalog),
        objects=objects,
        held=providers.Singleton(ImageCatalog, catalog, QUARANTINED),
    )
    pipeline = providers.Singleton(
        IngestPipeline,
        objects=objects,
        images=images,
        jobs=jobs,
        embeds=batcher,
        writes=writes,
        gate=gate,
        max_pixels=settings.provided.limits.max_pixels,
        max_decoded=providers.Callable(decoded_in_flight, settings.provided.worker, concurrency),
    )
    variant_renderer = providers.Singleton(
        VariantRenderer,
        objects=objects,
        variants=variants,
        jobs=jobs,
        max_pixels=settings.provided.limits.max_pixels,
    )
    frame_queue = providers.Singleton(FrameQueue, settings.provided.redis.url)
    sweeper = providers.Singleton(
        JobSweeper,
        jobs=jobs,
        known_task_ids=providers.Singleton(BrokerTaskIds, redis_client),
        send=frame_queue.provided.send,
        registry=metrics,
        after_s=settings.provided.worker.sweep_after_s,
    )
    captures = providers.Singleton(CaptureCatalog, catalog)
    capture = providers.Singleton(
        CaptureService,
        captures=captures,
        slots=providers.Singleton(
            StreamSlots,
            redis_client,
            limit=settings.provided.cameras.max_streams,
            ttl_s=settings.provided.cameras.slot_ttl_s,
        ),
        intake=providers.Singleton(Intake, objects, jobs, frame_queue),
        batcher=batcher,
        settings=settings.provided.cameras,
    )
