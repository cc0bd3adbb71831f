"""The soak's own system: private servers (Redis with AOF on), a PostgreSQL catalog, the worker
and ingestapi. Nothing here is shared with another suite, so stopping a part disturbs no one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.soak.plan import Plan
from tests.support.postgres import Postgres, running_postgres
from tests.support.servers import Servers, running_servers
from tests.support.stack import Stack


@dataclass
class PostgresStack(Stack):
    """A stack whose catalog is a PostgreSQL database, so the catalog can go down on its own."""

    postgres_url: str = ""

    @property
    def database_url(self) -> str:
        return self.postgres_url


@dataclass
class SoakSystem:
    stack: Stack
    servers: Servers
    postgres: Postgres
    plan: Plan

    def start_worker(self) -> None:
        self.stack.start_worker(**self.plan.worker_env)


@contextmanager
def soak_system(plan: Plan, work: Path, log_dir: Path) -> Iterator[SoakSystem]:
    """Everything started, the worker first (it migrates the catalog and opens the index).
    ``log_dir`` is the soak's own: emptied first, as the retry count reads the worker's log."""
    shutil.rmtree(log_dir, ignore_errors=True)
    with (
        running_servers(work, log_dir, redis_aof=True) as servers,
        running_postgres() as postgres,
    ):
        stack = PostgresStack(
            servers=servers,
            name="soak",
            redis_db=0,
            postgres_url=postgres.create_database("soak"),
        )
        system = SoakSystem(stack, servers, postgres, plan)
        try:
            with stack.starting_together():
                system.start_worker()
                stack.start_ingestapi()
            yield system
        finally:
            stack.stop_all()
            shutil.rmtree(stack.work, ignore_errors=True)
