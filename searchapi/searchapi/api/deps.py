"""Annotated dependencies: the search service from the container, and shared query parameters
(a search's page: limit, offset, the ``min_score`` floor, ``only_matches``).

Each is ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool, one thread hop
per dependency per request, and these only look up the container or check parameters."""

from typing import Annotated

from fastapi import Depends, Query, Request

from searchapi.config import SearchSettings
from searchapi.container import Container
from searchapi.service.cutoff import Page
from searchapi.service.duplicates import DuplicateService
from searchapi.service.library import LibraryService
from searchapi.service.search import SearchService
from searchapi.service.variants import VariantService
from shared.catalog.facets import ImageFacets
from shared.domain import SOURCES, SearchFilters, check_source, normalise_tags
from shared.errors import InvalidInput
from shared.imaging import MIME_TYPES
from shared.links import Links
from shared.openapi import bound_by

_FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF"}
_FORMATS = [*MIME_TYPES, *_FORMAT_ALIASES]
# Declared for the document; the checks below answer 400 `invalid-input` with what is allowed.
_FORMAT_ITEMS = {"items": {"type": "string", "enum": _FORMATS + [f.lower() for f in _FORMATS]}}
# The settings that bound the page, by name: searchapi's create_app fills in their values.
MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS = "max_limit", "max_offset", "max_query_chars"
CameraIdQuery = Annotated[
    str | None, Query(pattern=r"^[\w.:-]{1,64}$", description="images from this camera")
]


def _container(request: Request) -> Container:
    """The one way a route reaches the object graph: the container ``create_app`` put on the app."""
    container: Container = request.app.state.container
    return container


async def _service(request: Request) -> SearchService:
    return _container(request).search()


async def _duplicates(request: Request) -> DuplicateService:
    return _container(request).duplicates()


async def _library(request: Request) -> LibraryService:
    return _container(request).library()


async def _facets(request: Request) -> ImageFacets:
    return _container(request).facets()


async def _links(request: Request) -> Links:
    return _container(request).links()


async def _variants(request: Request) -> VariantService:
    return _container(request).variant_service()


async def _settings(request: Request) -> SearchSettings:
    return _container(request).settings()


async def _filters(
    format: Annotated[
        list[str],
        Query(
            description="JPEG, PNG, WEBP, GIF, BMP, TIFF; repeatable",
            json_schema_extra=_FORMAT_ITEMS,
        ),
    ] = [],  # noqa: A002, B006
    min_width: Annotated[int | None, Query(ge=1)] = None,
    min_height: Annotated[int | None, Query(ge=1)] = None,
    after: Annotated[int | None, Query(ge=0, description="ingested at or after (unix ms)")] = None,
    before: Annotated[int | None, Query(ge=0, description="ingested before (unix ms)")] = None,
    tag: Annotated[list[str], Query(description="images with every one of these tags")] = [],  # noqa: B006
    source: Annotated[
        str | None,
        Query(description="upload | url | camera", json_schema_extra={"enum": list(SOURCES)}),
    ] = None,
    camera_id: CameraIdQuery = None,
) -> SearchFilters:
    formats = tuple(_FORMAT_ALIASES.get(f.upper(), f.upper()) for f in format)
    if unknown := [f for f in formats if f not in MIME_TYPES]:
        raise InvalidInput(f"unknown format {unknown[0]!r}; use one of {', '.join(MIME_TYPES)}")
    if source is not None:
        check_source(source)
    tags = tuple(normalise_tags(tag))
    return SearchFilters(formats, min_width, min_height, after, before, tags, source, camera_id)


async def _page(
    request: Request,
    limit: Annotated[
        int,
        Query(ge=1, description="results per page", json_schema_extra=bound_by(maximum=MAX_LIMIT)),
    ] = 20,
    offset: Annotated[int, Query(ge=0, json_schema_extra=bound_by(maximum=MAX_OFFSET))] = 0,
    min_score: Annotated[
        float | None, Query(ge=-1, le=1, description="drop hits scoring below")
    ] = None,
    only_matches: Annotated[
        bool, Query(description="only the matches, no weaker hits after them")
    ] = False,
) -> Page:
    options = _container(request).settings().search
    if limit > options.max_limit:
        raise InvalidInput(f"limit must be at most {options.max_limit}")
    if offset > options.max_offset:
        raise InvalidInput(f"offset must be at most {options.max_offset}")
    return Page(limit, offset, min_score, only_matches)


ServiceDep = Annotated[SearchService, Depends(_service)]
LibraryDep = Annotated[LibraryService, Depends(_library)]
DuplicatesDep = Annotated[DuplicateService, Depends(_duplicates)]
FacetsDep = Annotated[ImageFacets, Depends(_facets)]
LinksDep = Annotated[Links, Depends(_links)]
VariantsDep = Annotated[VariantService, Depends(_variants)]
SettingsDep = Annotated[SearchSettings, Depends(_settings)]
FiltersDep = Annotated[SearchFilters, Depends(_filters)]
PageDep = Annotated[Page, Depends(_page)]
