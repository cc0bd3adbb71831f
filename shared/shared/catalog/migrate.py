"""The catalog schema's lifecycle: upgrade to the newest revision, once, whoever asks first.

Every service calls ``upgrade`` at start-up (and ``make migrate`` can run it ahead). Two processes
never migrate at once: PostgreSQL serialises them with an advisory lock, SQLite with a file lock
beside the database; the second one finds the schema current and does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from shared.catalog.db import Catalog, mapped_errors
from shared.logging import get_logger

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_ID = 0x1A6E5EA4C4  # any constant of ours: "imagesearch catalog migrations"
log = get_logger(__name__)


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    return str(ScriptDirectory(str(MIGRATIONS)).get_current_head())


def current(catalog: Catalog) -> str | None:
    with mapped_errors(), catalog.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _locked(catalog: Catalog) -> Iterator[Connection]:
    """A connection, held under the migrations' lock. On SQLite the file lock is taken before the
    connection opens: opening one may switch the file to WAL, which must not race a migration."""
    if catalog.dialect == "postgresql":
        with catalog.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            try:
                yield connection
            finally:
                connection.rollback()  # a failed step leaves the transaction aborted
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
        return
    database = catalog.engine.url.database
    if not database or database == ":memory:":
        with catalog.engine.connect() as connection:
            yield connection
        return
    with open(f"{database}.migrate-lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        with catalog.engine.connect() as connection:
            yield connection


@contextmanager
def exclusive(catalog: Catalog) -> Iterator[None]:
    """Hold the migrations' lock for another one-time start-up step (an index upgrade, a
    backfill), so services starting together do it once, one after the other."""
    with mapped_errors(), _locked(catalog):
        yield


def upgrade(catalog: Catalog, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default); a no-op when it is there."""
    with mapped_errors(), _locked(catalog) as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(_config(connection), revision)
        connection.commit()
        after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        log.info("catalog migrated", before=before, after=after, database=catalog.dialect)


def downgrade(catalog: Catalog, revision: str) -> None:
    with mapped_errors(), _locked(catalog) as connection:
        command.downgrade(_config(connection), revision)
        connection.commit()
