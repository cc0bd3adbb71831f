"""The catalog's schema lifecycle on SQLite and PostgreSQL: up, down, up; models match migrations;
two processes starting together migrate once."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from shared.catalog import migrate
from shared.catalog.db import Catalog
from shared.catalog.models import Base
from shared.config import DatabaseSettings

TABLES = {
    "images",
    "image_tags",
    "jobs",
    "users",
    "api_keys",
    "variants",
    "cameras",
    "captures",
    "compliance_decisions",
}


def _tables(catalog: Catalog) -> set[str]:
    return set(inspect(catalog.engine).get_table_names()) - {"alembic_version"}


def test_empty_database_upgrades_to_head_and_back_down(empty_catalog: Catalog) -> None:
    assert migrate.current(empty_catalog) is None
    migrate.upgrade(empty_catalog)
    assert migrate.current(empty_catalog) == migrate.head()
    assert _tables(empty_catalog) == TABLES
    migrate.downgrade(empty_catalog, "base")
    assert migrate.current(empty_catalog) is None
    assert _tables(empty_catalog) == set()
    migrate.upgrade(empty_catalog)
    assert _tables(empty_catalog) == TABLES


def test_models_match_the_migrated_schema(catalog: Catalog) -> None:
    with catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_at_head_changes_nothing(catalog: Catalog) -> None:
    migrate.upgrade(catalog)
    assert migrate.current(catalog) == migrate.head()


def test_services_starting_together_migrate_once(empty_catalog: Catalog) -> None:
    """Each start-up migrates with its own engine; the lock lets exactly one of them do it."""
    url = empty_catalog.engine.url.render_as_string(hide_password=False)
    errors: list[BaseException] = []

    def start() -> None:
        own = Catalog(DatabaseSettings(url=url))
        try:
            migrate.upgrade(own)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert migrate.current(empty_catalog) == migrate.head()
    assert _tables(empty_catalog) == TABLES
