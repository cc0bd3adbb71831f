"""The ingest stack of this directory's modules: ingestapi and a worker, each with its own limits.

The worker allows fewer pixels than ingestapi (as while a lower limit rolls out to the workers
first), so an image ingestapi accepts can still fail in the worker, with its reason. Every other
picture the tests send is far smaller than either limit.

The fast tier's stand-ins for ingestapi's ports (no servers) are here too, one fresh set per
test: in-memory fakes, and the real catalog on a SQLite file.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from tests.support.fakes import FakeIngestQueue, FakeObjectStore, FakeVectorStore
from tests.support.local_catalog import FailableCatalog, sqlite_catalog
from tests.support.stack import Stack

WORKER_MAX_PIXELS = 1_000_000


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("ingest")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker(LIMITS__MAX_PIXELS=str(WORKER_MAX_PIXELS))
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("ingestapi", timeout=60) as client:
        yield client


@pytest.fixture
def objects() -> FakeObjectStore:
    return FakeObjectStore()


@pytest.fixture
def vectors() -> FakeVectorStore:
    return FakeVectorStore()


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[FailableCatalog]:
    """SQLite only: service tests need not run twice, as the catalog's own tests do."""
    catalog = sqlite_catalog(tmp_path)
    yield catalog
    catalog.close()


@pytest.fixture
def images(catalog: FailableCatalog) -> ImageCatalog:
    return ImageCatalog(catalog)


@pytest.fixture
def jobs(catalog: FailableCatalog) -> JobStore:
    return JobStore(catalog)


@pytest.fixture
def queue() -> FakeIngestQueue:
    return FakeIngestQueue()
