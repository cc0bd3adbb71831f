"""A real PostgreSQL for the catalog's tests: Debian's server binaries, our own data directory.

``initdb`` refuses to run as root, so as root the data directory is handed to the ``postgres``
user the package creates and the server runs as that user (``runuser``). It listens on a free
loopback port and on a socket in its own directory; it is stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import free_port, wait_until

USER = "app"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is missing (make test installs Debian's postgresql)"
    return found[-1]


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Postgres:
    data_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            _as_owner(
                [_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name]
            ),
            check=True,
            capture_output=True,
        )
        return self.url(name)

    def _ctl(self, *args: str) -> None:
        log = self.data_dir / "server.log"
        subprocess.run(
            _as_owner([_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(log), *args]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    # Not under pytest's temp dir: its parents are private to root, and the server runs as postgres.
    work = Path(tempfile.mkdtemp(prefix="imagesearch-pg-"))
    data_dir = work / "pgdata"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
        shutil.chown(data_dir, "postgres")
    subprocess.run(
        _as_owner([_bin("initdb"), "-D", str(data_dir), "-A", "trust", "-U", USER]),
        check=True,
        capture_output=True,
    )
    server = Postgres(data_dir, free_port())
    server.start()
    try:
        wait_until(lambda: _answers(server), 30, "PostgreSQL to accept connections")
        yield server
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _answers(server: Postgres) -> bool:
    probe = [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(server.port), "-U", USER]
    return subprocess.run(probe, capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server
