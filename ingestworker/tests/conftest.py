"""The worker's unit suites share one fixture for a fresh SQLite catalog, and the pipeline's
suites one worker on the fakes over it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from tests.support.fakes import FakeObjectStore
from tests.support.local_catalog import FailableCatalog, sqlite_catalog
from tests.support.pipeline_worker import Worker, worker_on


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[FailableCatalog]:
    catalog = sqlite_catalog(tmp_path)
    yield catalog
    catalog.close()


@pytest.fixture
def worker(catalog: FailableCatalog) -> Iterator[Worker]:
    yield from worker_on(FakeObjectStore(), ImageCatalog(catalog), JobStore(catalog), catalog)
