"""The real catalog for the fast tier: SQLite is a library, not a server, so tests run the real
``Catalog`` on a temporary file instead of faking it, and read its rows back.

Migrating takes longer than copying a file: the schema is migrated once per test session and
each test gets a copy. ``FailableCatalog`` can be switched off like the fakes (``outage()``).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.catalog import migrate
from shared.catalog.db import DEPENDENCY, Catalog
from shared.catalog.jobs import JobStore
from shared.catalog.models import JobRow
from shared.config import DatabaseSettings
from shared.domain import Job
from tests.support.fakes import Failable


class FailableCatalog(Failable, Catalog):
    """The real catalog, switched off by ``outage()``: every unit of work then raises as an
    unreachable database does, and ``ping`` answers False."""

    dependency = DEPENDENCY

    def __init__(self, settings: DatabaseSettings) -> None:
        Catalog.__init__(self, settings)
        Failable.__init__(self)

    @contextmanager
    def session(self) -> Iterator[Session]:
        self._check()
        with super().session() as session:
            yield session

    def ping(self) -> bool:
        return Failable.ping(self) and Catalog.ping(self)


def _sqlite(path: Path) -> DatabaseSettings:
    return DatabaseSettings(url=f"sqlite:///{path}")


@functools.cache
def _migrated_file() -> Path:
    """The one database migrated in this test session, the template of every test's copy."""
    directory = Path(tempfile.mkdtemp(prefix="catalog-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    catalog = Catalog(_sqlite(directory / "catalog.db"))
    migrate.upgrade(catalog)
    catalog.close()  # the last connection out folds the WAL into the file
    return directory / "catalog.db"


def sqlite_catalog(directory: Path) -> FailableCatalog:
    """A catalog on a SQLite file in ``directory``, at the newest schema."""
    path = directory / "catalog.db"
    shutil.copyfile(_migrated_file(), path)
    return FailableCatalog(_sqlite(path))


def recorded_jobs(catalog: Catalog) -> dict[str, Job]:
    """Every job record in the catalog, by id (the job store itself reads one id at a time)."""
    with catalog.session() as session:
        ids = list(session.scalars(select(JobRow.id)))
    jobs = JobStore(catalog)
    return {job_id: jobs.get(job_id) for job_id in ids}
