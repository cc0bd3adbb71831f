"""The catalog's engine and units of work.

One ``Catalog`` per process (the services' containers hold it). Each unit of work is one
transaction: ``with catalog.session() as session: ...`` commits at the end or rolls back on an
error, so nothing is ever half-written. SQLite runs in WAL mode with a busy timeout and foreign
keys on, so the services (separate processes) can read while one of them writes. A database that
cannot be reached is ``DependencyUnavailable``, retried like any other outage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from shared.config import DatabaseSettings
from shared.errors import DependencyUnavailable

DEPENDENCY = "catalog database"


def _sqlite_pragmas(timeout_s: float) -> Any:
    def on_connect(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")  # before anything that locks
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each WAL checkpoint; fast commits
        cursor.close()

    return on_connect


def make_engine(settings: DatabaseSettings) -> Engine:
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": settings.timeout_s})
        event.listen(engine, "connect", _sqlite_pragmas(settings.timeout_s))
        return engine
    return create_engine(
        url,
        pool_size=settings.pool_size,
        pool_pre_ping=True,  # a restarted PostgreSQL leaves dead pooled connections behind
        pool_timeout=settings.timeout_s,
        connect_args={"connect_timeout": max(1, int(settings.timeout_s))},
    )


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Lost connections and locks held too long are outages; everything else is a bug."""
    try:
        yield
    except OperationalError as exc:
        raise DependencyUnavailable(DEPENDENCY) from exc
    except PoolTimeout as exc:
        raise DependencyUnavailable(DEPENDENCY) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DependencyUnavailable(DEPENDENCY) from exc
        raise


class Catalog:
    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with mapped_errors(), self._sessions.begin() as session:
            yield session

    def ping(self) -> bool:
        try:
            with mapped_errors(), self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DependencyUnavailable:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()
