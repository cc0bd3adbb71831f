"""The real backing servers for the whole test session: Redis, MinIO, Milvus on free ports.

They are started once per session (Milvus takes ~20 s) and stopped at the end. Suites isolate
themselves with their own Redis database, bucket and Milvus alias (see ``tests.support.stack``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.support.processes import ROOT, VENV_BIN, ManagedProcess, free_port, http_ok, wait_until

MINIO_USER = "testadmin"
MINIO_PASSWORD = "testadmin-secret"


@dataclass
class Servers:
    redis: ManagedProcess
    minio: ManagedProcess
    milvus: ManagedProcess
    redis_port: int
    minio_port: int
    milvus_port: int
    log_dir: Path

    @property
    def minio_endpoint(self) -> str:
        return f"127.0.0.1:{self.minio_port}"

    @property
    def milvus_uri(self) -> str:
        return f"http://127.0.0.1:{self.milvus_port}"

    def redis_url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/{db}"

    def restart_minio(self) -> None:
        self.minio.start()
        self.minio.wait_ready(
            lambda: http_ok(f"http://{self.minio_endpoint}/minio/health/ready"), 60
        )

    def restart_redis(self) -> None:
        self.redis.start()
        self.redis.wait_ready(redis.Redis.from_url(self.redis_url(0)).ping, 30)

    def restart_milvus(self) -> None:
        """Start Milvus again on its ports. Its launcher binds them as Milvus does, so ports whose
        connections wait out TIME_WAIT are taken at once; it tries again should another process
        have taken one meanwhile (the launcher then exits)."""
        milvus = self.milvus

        def answers_or_exited() -> bool:
            return not milvus.running or _milvus_answers(self.milvus_port)

        def attempt() -> bool:
            milvus.stop()  # an attempt that timed out may still be starting
            milvus.start()
            wait_until(answers_or_exited, 120, "Milvus to answer or exit")
            return milvus.running

        wait_until(attempt, 300, "Milvus to start again on its port", interval=5)


def _redis(port: int, work: Path, log_dir: Path, appendonly: bool) -> ManagedProcess:
    redis_bin = shutil.which("redis-server")
    assert redis_bin, "redis-server is not installed (make test installs it)"
    argv = [
        redis_bin,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes" if appendonly else "no",
        "--dir",
        str(work),
    ]
    proc = ManagedProcess("redis", argv, log_dir).start()
    client = redis.Redis(port=port)
    proc.wait_ready(client.ping, 30)
    return proc


def _minio(port: int, work: Path, log_dir: Path) -> ManagedProcess:
    minio_bin = ROOT / ".bin" / "minio"
    assert minio_bin.exists(), f"{minio_bin} is missing (make test builds it)"
    argv = [
        str(minio_bin),
        "server",
        "--quiet",
        "--address",
        f"127.0.0.1:{port}",
        "--console-address",
        f"127.0.0.1:{free_port()}",
        str(work / "minio"),
    ]
    env = {
        "MINIO_ROOT_USER": MINIO_USER,
        "MINIO_ROOT_PASSWORD": MINIO_PASSWORD,
        "MINIO_BROWSER": "off",
    }
    proc = ManagedProcess("minio", argv, log_dir, env=env).start()
    proc.wait_ready(lambda: http_ok(f"http://127.0.0.1:{port}/minio/health/ready"), 60)
    return proc


def _milvus(port: int, work: Path, log_dir: Path) -> ManagedProcess:
    argv = [
        str(VENV_BIN / "python"),
        str(ROOT / "tools" / "milvusd.py"),
        "--data",
        str(work / "milvus"),
        "--port",
        str(port),
    ]
    # Milvus does not stop on SIGTERM in reasonable time; its data recovers after a SIGKILL.
    proc = ManagedProcess("milvus", argv, log_dir, stop_timeout=5).start()
    proc.wait_ready(lambda: _milvus_answers(port), 180)
    return proc


def _milvus_answers(port: int) -> bool:
    from pymilvus import MilvusClient

    client = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=3)
    try:
        return client.get_server_version() is not None
    finally:
        client.close()


@contextmanager
def running_servers(
    work: Path, log_dir: Path = ROOT / "artifacts" / "logs", redis_aof: bool = False
) -> Iterator[Servers]:
    """Start Redis, MinIO and Milvus on free ports under ``work``; stop them all on exit.
    ``redis_aof``: Redis logs every write to disk, so a restart keeps its queues."""
    ports = {name: free_port() for name in ("redis", "minio", "milvus")}
    started: list[ManagedProcess] = []
    try:
        started.append(_redis(ports["redis"], work, log_dir, redis_aof))
        started.append(_minio(ports["minio"], work, log_dir))
        started.append(_milvus(ports["milvus"], work, log_dir))
        yield Servers(*started, ports["redis"], ports["minio"], ports["milvus"], log_dir)
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with running_servers(tmp_path_factory.mktemp("servers")) as started:
        yield started


__all__ = ["Servers", "running_servers", "servers", "wait_until"]
