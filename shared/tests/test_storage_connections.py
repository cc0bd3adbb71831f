"""``ObjectStore(connections=n)`` keeps n connections to MinIO open: n threads calling at once,
round after round, reuse them instead of opening, closing and warning about new ones (the worker
passes its concurrency). Against a minimal S3 endpoint of our own that counts connections and
holds each round's requests until all have arrived, so they are truly in flight together."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.config import MinioSettings
from shared.storage import ObjectStore

THREADS, ROUNDS = 8, 3
LOCATION = b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">us-east-1</LocationConstraint>'


class _S3(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one handler per connection
    opened = itertools.count()
    together = threading.Barrier(THREADS)

    def setup(self) -> None:
        next(self.opened)
        super().setup()

    def do_GET(self) -> None:  # the bucket's region, asked once
        self._answer(LOCATION)

    def do_HEAD(self) -> None:  # bucket_exists: answered when the whole round has arrived
        self.together.wait(timeout=10)
        self._answer(b"")

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    _S3.opened, _S3.together = itertools.count(), threading.Barrier(THREADS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _S3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _rounds(store: ObjectStore) -> int:
    """Connections the server saw after ROUNDS rounds of THREADS calls at once."""
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in range(ROUNDS):
            assert all(pool.map(lambda _: store.ping(), range(THREADS)))
    return next(_S3.opened)


def test_calls_at_once_reuse_as_many_connections(
    endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        opened = _rounds(ObjectStore(MinioSettings(endpoint=endpoint), connections=THREADS))
    assert opened <= THREADS
    assert "Connection pool is full" not in caplog.text


def test_too_few_connections_open_new_ones_every_round(endpoint: str) -> None:
    opened = _rounds(ObjectStore(MinioSettings(endpoint=endpoint), connections=2))
    assert opened >= THREADS + (ROUNDS - 1) * (THREADS - 2)
