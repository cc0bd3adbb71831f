"""searchapi's object graph. Built by ``create_app``; tests build it with other settings."""

from dependency_injector import containers, providers

from searchapi.config import SearchSettings
from searchapi.service.background import LibraryBackground
from searchapi.service.backup import LibraryBackup
from searchapi.service.duplicates import DuplicateService
from searchapi.service.library import LibraryService
from searchapi.service.reindex import Reindexer
from searchapi.service.search import SearchService
from searchapi.service.variants import VariantService
from shared.catalog.db import Catalog
from shared.catalog.facets import ImageFacets
from shared.catalog.images import ImageCatalog
from shared.catalog.variants import VariantCatalog
from shared.embedding import ClipEmbedder
from shared.identity.http import build_identity
from shared.links import build_links
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
    facets = providers.Singleton(ImageFacets, catalog)
    duplicates = providers.Singleton(
        DuplicateService,
        images=images,
        max_distance=settings.provided.duplicates.max_distance,
        max_age_s=settings.provided.duplicates.max_age_s,
        max_limit=settings.provided.duplicates.max_groups,
    )
    identity = providers.Singleton(build_identity, settings, catalog)
    links = providers.Singleton(build_links, settings.provided.auth, settings.provided.signing)
    variants = providers.Singleton(VariantCatalog, catalog)
    variant_service = providers.Singleton(
        VariantService, images=images, variants=variants, links=links
    )
    library = providers.Singleton(
        LibraryService, images=images, vectors=vectors, max_limit=settings.provided.search.max_limit
    )
    background = providers.Singleton(
        LibraryBackground,
        vectors,
        size=settings.provided.search.cutoff.background_sample,
        max_age_s=settings.provided.search.cutoff.background_max_age_s,
    )
    search = providers.Singleton(
        SearchService,
        embedder=embedder,
        vectors=vectors,
        cache_size=settings.provided.search.text_cache_size,
        max_query_chars=settings.provided.search.max_query_chars,
        max_pixels=settings.provided.limits.max_pixels,
        registry=metrics,
        background=background,
        cutoff=settings.provided.search.cutoff,
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
    # imgsearch admin backup / restore (searchapi.backup); restore re-indexes with the reindexer.
    library_backup = providers.Factory(
        LibraryBackup,
        catalog=catalog,
        images=images,
        objects=objects,
        index=index,
        model=settings.provided.model,
    )
