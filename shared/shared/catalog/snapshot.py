"""A consistent copy of the catalog in one file, and the catalog put back from one.

SQLite: the online backup API copies the live WAL database page by page under one read
transaction, so writers carry on and the copy is one moment of it; the copy is switched to a
rollback journal so it is a single self-contained file. PostgreSQL: ``pg_dump --format=custom``
under a snapshot exported from our own REPEATABLE READ transaction, so the image ids and schema
revision read beside it describe exactly what the dump holds. Putting one back replaces everything
the database held (the caller has checked that nothing worth keeping is there) and leaves the
schema at the dump's revision: the caller migrates after.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, func, inspect, select, text
from sqlalchemy.engine import URL

from shared.catalog.db import Catalog, mapped_errors
from shared.catalog.models import ImageRow

SQLITE_FILE = "catalog.sqlite"
POSTGRES_FILE = "catalog.pgdump"


@dataclass(frozen=True)
class Snapshot:
    kind: str  # "sqlite" | "postgresql"
    revision: str | None  # the schema revision the copy is at
    image_ids: frozenset[str]


class SnapshotError(Exception):
    """pg_dump or pg_restore failed or is missing; the message says which and why."""


def file_name(kind: str) -> str:
    return SQLITE_FILE if kind == "sqlite" else POSTGRES_FILE


def dump(catalog: Catalog, directory: Path) -> Snapshot:
    """Write the catalog to ``directory / file_name(kind)``."""
    target = directory / file_name(catalog.dialect)
    if catalog.dialect == "sqlite":
        return _dump_sqlite(catalog, target)
    return _dump_postgres(catalog, target)


def load(catalog: Catalog, path: Path) -> None:
    """Replace the catalog's whole content with the copy at ``path``."""
    if catalog.dialect == "sqlite":
        _load_sqlite(catalog, path)
    else:
        _load_postgres(catalog, path)
    catalog.engine.dispose()  # pooled connections may have cached the old schema


def image_count(catalog: Catalog) -> int:
    """Images catalogued; 0 for a database with no schema yet."""
    with mapped_errors(), catalog.engine.connect() as connection:
        if not inspect(connection).has_table(ImageRow.__tablename__):
            return 0
        return int(connection.execute(select(func.count()).select_from(ImageRow)).scalar_one())


def _dump_sqlite(catalog: Catalog, target: Path) -> Snapshot:
    source = catalog.engine.raw_connection()
    copy = sqlite3.connect(target)
    try:
        source.driver_connection.backup(copy)  # type: ignore[union-attr]
        copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        revision = _sqlite_revision(copy)
        ids = frozenset(row[0] for row in copy.execute("SELECT id FROM images"))
    finally:
        copy.close()
        source.close()
    return Snapshot("sqlite", revision, ids)


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _load_sqlite(catalog: Catalog, path: Path) -> None:
    copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = catalog.engine.raw_connection()
    try:
        copy.backup(target.driver_connection)  # type: ignore[arg-type]
    finally:
        target.close()
        copy.close()


def _dump_postgres(catalog: Catalog, target: Path) -> Snapshot:
    with mapped_errors(), catalog.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            exported = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision = connection.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar_one_or_none()
            ids = frozenset(connection.execute(select(ImageRow.id)).scalars())
            dsn, env = _libpq(catalog.engine.url)
            _run(
                "pg_dump",
                ["--format=custom", f"--snapshot={exported}", f"--file={target}", dsn],
                env,
            )
    return Snapshot("postgresql", revision, ids)


def _load_postgres(catalog: Catalog, path: Path) -> None:
    with mapped_errors(), catalog.engine.begin() as connection:
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)  # an emptied stack still has its schema (and its admin)
    dsn, env = _libpq(catalog.engine.url)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run("pg_restore", [*options, f"--dbname={dsn}", str(path)], env)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The database as a libpq URI, its password in the environment (not in ``ps``)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    """``name`` on PATH, else the newest Debian install of it."""
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    found = shutil.which(name) or max(installed, key=_major_version, default=None)
    if found is None:
        raise SnapshotError(f"{name} is missing: install PostgreSQL's client programs")
    return found


def _major_version(path: str) -> int:
    version = Path(path).parts[-3]  # /usr/lib/postgresql/16/bin/pg_dump
    return int(version) if version.isdigit() else 0


def _run(name: str, args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([_pg_tool(name), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SnapshotError(f"{name} failed: {done.stderr.strip()[-2000:]}")
