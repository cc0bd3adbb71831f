"""Catalog fixtures: the same tests run on SQLite (a file) and on a real PostgreSQL.

Each test gets a fresh, migrated database: a new SQLite file, or a new PostgreSQL database on the
session's server (``tests.support.postgres``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.catalog import migrate
from shared.catalog.db import Catalog
from shared.config import DatabaseSettings

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
_numbers = itertools.count(1)


def database_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    server = request.getfixturevalue("postgres")
    return str(server.create_database(f"catalog_{next(_numbers)}"))


@pytest.fixture(params=DATABASES)
def empty_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    """A catalog with no schema yet (for migration tests)."""
    catalog = Catalog(DatabaseSettings(url=database_url(request.param, request, tmp_path)))
    yield catalog
    catalog.close()


@pytest.fixture
def catalog(empty_catalog: Catalog) -> Catalog:
    """A catalog migrated to the newest schema."""
    migrate.upgrade(empty_catalog)
    return empty_catalog
