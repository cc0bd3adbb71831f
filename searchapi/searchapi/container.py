"""searchapi's object graph. Built by ``create_app``; tests build it with other settings."""

from dependency_injector import containers, providers

from searchapi.config import SearchSettings
from searchapi.service.search import SearchService
from shared.embedding import ClipEmbedder
from shared.vectors import VectorStore


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=SearchSettings)

    embedder = providers.Singleton(ClipEmbedder, settings.provided.model)
    vectors = providers.Singleton(VectorStore, settings.provided.milvus)
    search = providers.Singleton(
        SearchService,
        embedder=embedder,
        vectors=vectors,
        cache_size=settings.provided.search.text_cache_size,
        max_query_chars=settings.provided.search.max_query_chars,
        max_pixels=settings.provided.search.max_pixels,
    )
