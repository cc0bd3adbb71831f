"""Annotated dependencies: routes ask for a service, the container on app.state provides it.

Each is ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool, one thread hop
per dependency per request, and a container lookup needs none."""

from typing import Annotated

from fastapi import Depends, Request

from ingestapi.config import IngestSettings
from ingestapi.container import Container
from ingestapi.service.cameras import CameraService, CaptureService
from ingestapi.service.fetch import UrlFetcher
from ingestapi.service.images import ImageService
from ingestapi.service.ingest import IngestService
from ingestapi.service.quarantine import QuarantineService
from ingestapi.service.variants import VariantService
from ingestapi.service.verify import LibraryChecker
from shared.catalog.cameras import CameraCatalog, CaptureCatalog
from shared.links import Links


def _container(request: Request) -> Container:
    """The one way a route reaches the object graph: the container ``create_app`` put on the app."""
    container: Container = request.app.state.container
    return container


async def _ingest(request: Request) -> IngestService:
    return _container(request).ingest()


async def _fetcher(request: Request) -> UrlFetcher:
    return _container(request).fetcher()


async def _images(request: Request) -> ImageService:
    return _container(request).image_service()


async def _checker(request: Request) -> LibraryChecker:
    return _container(request).checker()


async def _variants(request: Request) -> VariantService:
    return _container(request).variant_service()


async def _links(request: Request) -> Links:
    return _container(request).links()


async def _cameras(request: Request) -> CameraService:
    return _container(request).camera_service()


async def _camera_catalog(request: Request) -> CameraCatalog:
    return _container(request).cameras()


async def _captures(request: Request) -> CaptureService:
    return _container(request).capture_service()


async def _capture_catalog(request: Request) -> CaptureCatalog:
    return _container(request).captures()


async def _quarantine(request: Request) -> QuarantineService:
    return _container(request).quarantine()


async def _settings(request: Request) -> IngestSettings:
    return _container(request).settings()


IngestDep = Annotated[IngestService, Depends(_ingest)]
FetcherDep = Annotated[UrlFetcher, Depends(_fetcher)]
ImagesDep = Annotated[ImageService, Depends(_images)]
CheckerDep = Annotated[LibraryChecker, Depends(_checker)]
VariantsDep = Annotated[VariantService, Depends(_variants)]
LinksDep = Annotated[Links, Depends(_links)]
CamerasDep = Annotated[CameraService, Depends(_cameras)]
CameraCatalogDep = Annotated[CameraCatalog, Depends(_camera_catalog)]
CapturesDep = Annotated[CaptureService, Depends(_captures)]
CaptureCatalogDep = Annotated[CaptureCatalog, Depends(_capture_catalog)]
QuarantineDep = Annotated[QuarantineService, Depends(_quarantine)]
SettingsDep = Annotated[IngestSettings, Depends(_settings)]
