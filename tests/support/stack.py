"""A test suite's own slice of the system: its Redis database, bucket and Milvus alias, and the
service processes it starts against the session's real servers (started and stopped by PID)."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from shared.catalog import migrate
from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import DatabaseSettings, MilvusSettings, MinioSettings
from shared.embedding import TINY_CHECKPOINT, TINY_MODEL
from shared.identity.keys import KeyStore
from shared.identity.roles import Role
from shared.identity.users import UserStore
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore
from tests.support.frontdoor import start_frontdoor
from tests.support.processes import ROOT, ManagedProcess, free_port, http_ok, wait_until
from tests.support.servers import MINIO_PASSWORD, MINIO_USER, Servers

PYTHON = sys.executable
JWT_SECRET = "test-session-secret-" + "s" * 24
SIGNING_SECRET = "test-signing-secret-" + "k" * 24
ADMIN_PASSWORD = "admin-password-for-tests"
_made: list[Stack] = []  # the session's stacks: their Redis databases, their logs for a failure


@dataclass
class Stack:
    servers: Servers
    name: str
    redis_db: int
    model_name: str = TINY_MODEL
    model_weights: str = str(TINY_CHECKPOINT)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    # Each stack's catalog: a SQLite file of its own, shared by its services (WAL mode).
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="stack-")))
    # Reads open, as make dev has them; writes need a key (every client() carries the admin's).
    public_read: bool = True
    _admin_key: str | None = None
    # Inside ``starting_together``: services started but not yet awaited (process, check, timeout).
    _pending: list[tuple[ManagedProcess, Callable[[], object], float]] | None = None
    # Holds its Redis database from birth until stop_all(): two live stacks never share one.
    retired: bool = False

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.work / 'catalog.db'}"

    @property
    def bucket(self) -> str:
        return f"t-{self.name}"

    @property
    def alias(self) -> str:
        return f"t_{self.name.replace('-', '_')}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "CONF_DIR": str(ROOT / "conf"),
            "MINIO__ENDPOINT": self.servers.minio_endpoint,
            "MINIO__ACCESS_KEY": MINIO_USER,
            "MINIO__SECRET_KEY": MINIO_PASSWORD,
            "MINIO__BUCKET": self.bucket,
            "MINIO__TIMEOUT_S": "3",
            "REDIS__URL": self.servers.redis_url(self.redis_db),
            "MILVUS__URI": self.servers.milvus_uri,
            "MILVUS__ALIAS": self.alias,
            "MODEL__NAME": self.model_name,
            "MODEL__PRETRAINED": self.model_weights,
            "MODEL__DEVICE": "cpu",
            "DATABASE__URL": self.database_url,
            "AUTH__JWT_SECRET": JWT_SECRET,
            "AUTH__PUBLIC_READ": str(self.public_read).lower(),
            "SIGNING__SECRET": SIGNING_SECRET,
            "LOG__JSON_OUTPUT": "true",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    # -- clients for assertions ------------------------------------------------------------------

    def objects(self) -> ObjectStore:
        return ObjectStore(
            MinioSettings(
                endpoint=self.servers.minio_endpoint,
                access_key=MINIO_USER,
                secret_key=MINIO_PASSWORD,
                bucket=self.bucket,
            )
        )

    def index(self) -> VectorIndex:
        return VectorIndex(MilvusSettings(uri=self.servers.milvus_uri, alias=self.alias))

    def vectors(self) -> VectorStore:
        return VectorStore(self.index())

    def catalog(self) -> Catalog:
        return Catalog(DatabaseSettings(url=self.database_url))

    def jobs(self) -> JobStore:
        return JobStore(self.catalog())

    def images(self) -> ImageCatalog:
        return ImageCatalog(self.catalog())

    # -- identity: the stack's admin, and more users and keys for tests that need them ------------

    @property
    def admin_password(self) -> str:
        self._ensure_admin()
        return ADMIN_PASSWORD

    @property
    def admin_key(self) -> str:
        self._ensure_admin()
        assert self._admin_key is not None
        return self._admin_key

    def _ensure_admin(self) -> None:
        if self._admin_key is None:
            self._admin_key = self.add_user("admin", ADMIN_PASSWORD, Role.ADMIN)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def add_user(self, name: str, password: str, role: Role | str) -> str:
        """A user (who signs in with ``password``) and an API key with the same role (returned)."""
        catalog = self.catalog()
        try:
            migrate.upgrade(catalog)
            UserStore(catalog).create(name, password, Role(role))
            return KeyStore(catalog).create(f"{name}-tests", Role(role), name)[0]
        finally:
            catalog.close()

    def add_key(self, role: Role | str, name: str = "tests") -> str:
        catalog = self.catalog()
        try:
            migrate.upgrade(catalog)
            return KeyStore(catalog).create(name, Role(role), "tests")[0]
        finally:
            catalog.close()

    # -- services ---------------------------------------------------------------------------------

    @contextmanager
    def starting_together(self) -> Iterator[None]:
        """Services started inside are awaited together at the end: the worker's and searchapi's
        model loads overlap instead of queueing (about a third off each suite's setup)."""
        self._pending = []
        try:
            yield
            for proc, check, timeout in self._pending:
                proc.wait_ready(check, timeout)
        finally:
            self._pending = None

    def _start(
        self, name: str, argv: list[str], env: dict[str, str], health_url: str, timeout: float = 120
    ) -> ManagedProcess:
        self.retired = False
        proc = ManagedProcess(f"{self.name}-{name}", argv, self.servers.log_dir, env=env).start()
        self.processes[name] = proc
        if self._pending is None:
            proc.wait_ready(lambda: http_ok(health_url), timeout)
        else:
            self._pending.append((proc, lambda: http_ok(health_url), timeout))
        return proc

    def start_ingestapi(self, **extra: str) -> str:
        port = free_port()
        env = self.env(HTTP__PORT=str(port), **extra)
        self._start(
            "ingestapi", [PYTHON, "-m", "ingestapi"], env, f"http://127.0.0.1:{port}/healthz"
        )
        self.urls["ingestapi"] = f"http://127.0.0.1:{port}"
        return self.urls["ingestapi"]

    def start_worker(self, name: str = "worker", **extra: str) -> ManagedProcess:
        port = free_port()
        env = self.env(WORKER__HTTP_PORT=str(port), **extra)
        self.urls[name] = f"http://127.0.0.1:{port}"
        return self._start(
            name,
            [PYTHON, "-m", "ingestworker"],
            env,
            f"{self.urls[name]}/readyz",
            timeout=180,
        )

    def start_searchapi(self, **extra: str) -> str:
        port = free_port()
        env = self.env(HTTP__PORT=str(port), **extra)
        self._start(
            "searchapi",
            [PYTHON, "-m", "searchapi"],
            env,
            f"http://127.0.0.1:{port}/readyz",
            timeout=180,
        )
        self.urls["searchapi"] = f"http://127.0.0.1:{port}"
        return self.urls["searchapi"]

    def start_cdnapi(self, **extra: str) -> str:
        port = free_port()
        env = self.env(HTTP__PORT=str(port), CACHE__DISK_DIR=str(self.work / "cdn-cache"), **extra)
        binary = str(ROOT / ".bin" / "cdnapi")
        self._start("cdnapi", [binary], env, f"http://127.0.0.1:{port}/readyz", timeout=60)
        self.urls["cdnapi"] = f"http://127.0.0.1:{port}"
        return self.urls["cdnapi"]

    def start_frontdoor(self) -> str:
        """Nginx in front of the services already started, as ``make dev`` runs it."""
        run_dir = Path(tempfile.mkdtemp(prefix=f"nginx-{self.name}-"))
        proc, url = start_frontdoor(
            self.urls["ingestapi"],
            self.urls["searchapi"],
            self.urls["cdnapi"],
            run_dir,
            self.servers.log_dir,
            name=f"{self.name}-frontdoor",
        )
        self.processes["frontdoor"] = proc
        self.urls["frontdoor"] = url
        return url

    def start_system(self, **api_env: str) -> str:
        """Everything behind the front door, as ``make dev`` runs it; ``api_env`` goes to both
        APIs. Returns the front door's URL."""
        with self.starting_together():
            self.start_ingestapi(**api_env)
            self.start_worker()
            self.start_searchapi(**api_env)
            self.start_cdnapi()
        return self.start_frontdoor()

    def client(self, service: str, timeout: float = 60, key: str | None = "admin") -> httpx.Client:
        """An HTTP client for one of the services this stack started (close it, or use ``with``),
        sending the admin's API key unless given another (``key=None``: anonymous)."""
        key = self.admin_key if key == "admin" else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.urls[service], timeout=timeout, headers=headers)

    def stop(self, name: str) -> None:
        if proc := self.processes.pop(name, None):
            proc.stop()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        self.retired = True


def wait_for_job(
    client: httpx.Client, base_url: str, job_id: str, timeout: float = 120
) -> dict[str, Any]:
    """Poll the job until it reaches a terminal state; return its last body."""

    def terminal() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"{base_url}/api/v1/ingest/jobs/{job_id}").json()
        return body if body["state"] in ("done", "failed", "duplicate", "quarantined") else None

    return wait_until(terminal, timeout, f"job {job_id} to finish", interval=0.2)


@pytest.fixture(scope="module")
def frontdoor_stack(stack_factory: Any, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The whole system behind Nginx, for one test module: services, worker, cdnapi, front door."""
    stack: Stack = stack_factory(f"fd-{request.module.__name__.rsplit('.', 1)[-1]}")
    stack.start_system()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def frontdoor_url(frontdoor_stack: Stack) -> str:
    return frontdoor_stack.urls["frontdoor"]


@pytest.fixture(scope="session")
def stack_factory(servers: Servers) -> Iterator[Any]:
    def make(name: str, **kwargs: Any) -> Stack:
        name = re.sub(r"[^a-z0-9-]", "-", name.lower())[:40]
        stack = Stack(servers=servers, name=name, redis_db=_free_redis_db(), **kwargs)
        # A database comes back empty, never with an earlier suite's queued or unacknowledged
        # tasks (which this stack's worker would take for its own).
        redis.Redis.from_url(servers.redis_url(stack.redis_db)).flushdb()
        _made.append(stack)
        return stack

    yield make
    for stack in _made:
        stack.stop_all()
        shutil.rmtree(stack.work, ignore_errors=True)
    _made.clear()


def _free_redis_db() -> int:
    """A Redis database no live stack uses (0 is the servers' own): the suites outnumber Redis's
    16 databases, and two workers on one database would take each other's tasks."""
    taken = {stack.redis_db for stack in _made if not stack.retired}
    free = [db for db in range(1, 16) if db not in taken]
    assert free, f"{len(taken)} stacks alive at once: stop a module's stack when it ends"
    return free[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report ends with the last lines of every service still running: in CI,
    where the log files are gone with the machine, that is what tells a stuck job's story."""
    report = yield
    if report.failed:
        for stack in _made:
            for proc in stack.processes.values():
                report.sections.append((f"last lines of {proc.log_path.name}", proc.tail(30)))
    return report
