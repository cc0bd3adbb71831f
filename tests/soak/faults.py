"""The faults, injected on the plan's schedule, each held for its length and then recovered.

Each outage blocks until its part answers again (Redis pings, MinIO and Milvus answer,
PostgreSQL accepts connections), so the next one never overlaps it and the table can say when
each really began and ended. The waits here are the outages under test, not synchronisation:
every recovery is polled with a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from tests.soak.environment import SoakSystem
from tests.soak.plan import (
    CATALOG_STOP,
    MILVUS_STOP,
    MINIO_STOP,
    REDIS_RESTART,
    WORKER_KILL,
    Fault,
)
from tests.support.postgres import Postgres
from tests.support.processes import wait_until


@dataclass(frozen=True)
class Injected:
    kind: str
    began_s: float  # seconds after the first upload
    recovered_s: float


def _restart_redis(system: SoakSystem, down_s: float) -> None:
    system.servers.redis.stop()
    time.sleep(down_s)
    system.servers.restart_redis()


def _stop_minio(system: SoakSystem, down_s: float) -> None:
    system.servers.minio.stop()
    time.sleep(down_s)
    system.servers.restart_minio()


def _stop_milvus(system: SoakSystem, down_s: float) -> None:
    system.servers.milvus.stop()
    time.sleep(down_s)
    system.servers.restart_milvus()


def _stop_catalog(system: SoakSystem, down_s: float) -> None:
    system.postgres.stop()
    time.sleep(down_s)
    system.postgres.start()
    wait_until(lambda: _accepts(system.postgres), 30, "PostgreSQL to accept connections")


def _accepts(postgres: Postgres) -> bool:
    engine = create_engine(postgres.url())
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


INJECT: dict[str, Callable[[SoakSystem, float], None]] = {
    REDIS_RESTART: _restart_redis,
    MINIO_STOP: _stop_minio,
    MILVUS_STOP: _stop_milvus,
    CATALOG_STOP: _stop_catalog,
}


def _worker_restarted(system: SoakSystem, began: float, started: float) -> Injected:
    system.start_worker()
    return Injected(WORKER_KILL, began, time.monotonic() - started)


def run_schedule(system: SoakSystem, faults: tuple[Fault, ...], started: float) -> list[Injected]:
    """Inject each fault at its time (or at once, if the one before it ran late). A killed
    worker (no warm shutdown: its unacked tasks stay unacked) restarts in the background, as
    loading its model takes a while, so the faults after it meet the traffic planned for them."""
    injected: list[Injected | Future[Injected]] = []
    with ThreadPoolExecutor(1) as restarts:
        for fault in sorted(faults, key=lambda f: f.at_s):
            time.sleep(max(0.0, started + fault.at_s - time.monotonic()))
            began = time.monotonic() - started
            if fault.kind == WORKER_KILL:
                system.stack.processes["worker"].kill()
                injected.append(restarts.submit(_worker_restarted, system, began, started))
            else:
                INJECT[fault.kind](system, fault.down_s)
                injected.append(Injected(fault.kind, began, time.monotonic() - started))
        return [i if isinstance(i, Injected) else i.result() for i in injected]
