"""searchapi's object graph. Built by ``create_app``; tests build it with other settings."""

from dependency_injector import containers, providers

from searchapi.config import SearchSettings
from searchapi.service.library import LibraryService
from searchapi.service.links import build_links
from searchapi.service.reindex import Reindexer
from searchapi.service.search import SearchService
from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.embedding import ClipEmbedder
from shared.identity.http import build_identity
from shared.ops import new_registry
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=SearchSettings)
    metrics = providers.Singleton(new_registry)

    embedder = providers.Singleton(ClipEmbedder, settings.provided.model)
    index = providers.Singleton(VectorIndex, settings.provided.milvus)
    vectors = providers.Singleton(VectorStore, index)
    objects = providers.Singleton(ObjectStore, settings.provided.minio)
    catalog = providers.Singleton(Catalog, settings.provided.database)
    images = providers.Singleton(ImageCatalog, catalog)
    identity = providers.Singleton(build_identity, settings, catalog)
    links = providers.Singleton(build_links, settings.provided.auth, settings.provided.signing)
    library = providers.Singleton(
        LibraryService, images=images, vectors=vectors, max_limit=settings.provided.search.max_limit
    )
    search = providers.Singleton(
        SearchService,
        embedder=embedder,
        vectors=vectors,
        cache_size=settings.provided.search.text_cache_size,
        max_query_chars=settings.provided.search.max_query_chars,
        max_pixels=settings.provided.limits.max_pixels,
        registry=metrics,
    )
    # python -m searchapi.reindex; the batch size comes from its command line.
    reindexer = providers.Factory(
        Reindexer,
        embedder=embedder,
        objects=objects,
        images=images,
        index=index,
        max_pixels=settings.provided.limits.max_pixels,
    )
