"""``POST /api/v1/ingest/url``: the SSRF address policy, then the fetch on real parts.

The images are served by a small HTTP server of the test's own on loopback, so the ingestapi under
test runs with ``INGEST__URL_ALLOW_PRIVATE=true``; a second one without it must refuse loopback.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from ingestapi.service.fetch import UrlFetcher, is_public_address
from shared.domain import image_id_of, original_key, staging_key
from shared.errors import UrlNotAllowed
from tests.support.images import encode, picture
from tests.support.processes import free_port
from tests.support.stack import Stack, wait_for_job

MAX_BYTES = 1_000_000
PNG = encode(picture(48, 40, (200, 30, 120)), "PNG")

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    "fc00::1",
    "fe80::1",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("address", REFUSED)
def test_address_policy_refuses_non_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_address_policy_allows_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


# -- a loopback image server ---------------------------------------------------------------------


class ImageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[str] = []
        self.hosts: list[str | None] = []
        self.stopping = threading.Event()
        self.endless_sent = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: ImageServer

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)
        self.server.hosts.append(self.headers.get("Host"))
        path = self.path.split("?", 1)[0]
        if path.startswith("/img/"):
            self._send(200, PNG, "image/png")
        elif path == "/notes.txt":
            self._send(200, b"just some words, no pixels\n" * 10, "text/plain")
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/hop/{left - 1}" if left else "/img/final.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/away":  # elsewhere on loopback, by absolute URL
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{port}/img/away.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/endless.png":
            self._endless()
        elif path == "/slow.png":
            self.server.stopping.wait(15)  # slower than the service's 2 s fetch timeout
            try:
                self._send(200, PNG, "image/png")
            except OSError:
                self.close_connection = True  # the service gave up long ago
        else:
            self._send(404, b"no such thing", "text/plain")

    def _send(self, status: int, body: bytes, mime: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        """A body with no declared length that would go on far past the cap (bounded: 64 MB)."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        chunk = PNG[:8] + bytes(64 * 1024 - 8)
        try:
            while self.server.endless_sent < 64_000_000 and not self.server.stopping.is_set():
                self.wfile.write(chunk)
                self.server.endless_sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    server = ImageServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def url_stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("ingest-url")
    with stack.starting_together():
        stack.start_ingestapi(
            INGEST__URL_ALLOW_PRIVATE="true",
            INGEST__URL_TIMEOUT_S="2",
            LIMITS__MAX_BYTES=str(MAX_BYTES),
        )
        stack.start_worker()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def api(url_stack: Stack) -> Iterator[httpx.Client]:
    with url_stack.client("ingestapi", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def strict_api(stack_factory: Any) -> Iterator[httpx.Client]:
    """An ingestapi with the default policy: public addresses only."""
    stack = stack_factory("ingest-url-strict")
    stack.start_ingestapi()
    with stack.client("ingestapi", timeout=30) as client:
        yield client
    stack.stop_all()


def _ingest_url(client: httpx.Client, url: str) -> httpx.Response:
    return client.post("/api/v1/ingest/url", json={"url": url})


def _assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict = response.json()
    if code is not None:
        assert body["type"] == f"urn:imagesearch:problem:{code}"
    return body


# -- the fetch, on real parts --------------------------------------------------------------------


def test_url_image_is_ingested_and_stored(
    api: httpx.Client, url_stack: Stack, images: ImageServer
) -> None:
    response = _ingest_url(api, f"{images.base}/img/red%20square.png?size=small")
    assert response.status_code == 202, response.text
    [job] = response.json()["jobs"]
    assert (job["state"], job["image_id"], job["filename"]) == (
        "queued",
        image_id_of(PNG),
        "red square.png",
    )
    done = wait_for_job(api, url_stack.urls["ingestapi"], job["job_id"])
    assert done["state"] == "done", done
    objects = url_stack.objects()
    assert objects.get(original_key(image_id_of(PNG))) == PNG
    assert objects.stat(original_key(image_id_of(PNG))).content_type == "image/png"
    assert not objects.exists(staging_key(image_id_of(PNG)))

    again = _ingest_url(api, f"{images.base}/img/other-name.png")
    assert again.status_code == 202
    assert again.json()["jobs"][0]["state"] == "duplicate"


def test_url_fetch_connects_to_the_vetted_address_with_the_original_host(
    api: httpx.Client, images: ImageServer
) -> None:
    port = images.server_address[1]
    response = _ingest_url(api, f"http://localhost:{port}/img/by-name.png")
    assert response.status_code == 202, response.text
    assert images.hosts[-1] == f"localhost:{port}"


def test_url_redirects_are_followed_up_to_three(api: httpx.Client, images: ImageServer) -> None:
    response = _ingest_url(api, f"{images.base}/hop/2")
    assert response.status_code == 202, response.text
    [job] = response.json()["jobs"]
    assert job["filename"] == "final.png"  # named after the final URL
    assert job["image_id"] == image_id_of(PNG)


def test_url_fourth_redirect_is_refused_without_following_it(
    api: httpx.Client, images: ImageServer
) -> None:
    seen = len(images.paths)
    body = _assert_problem(_ingest_url(api, f"{images.base}/hop/3"), 422, "url-redirects")
    assert "redirects" in body["detail"]
    assert images.paths[seen:] == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]  # not /img/final.png


def test_url_answering_404_is_422(api: httpx.Client, images: ImageServer) -> None:
    body = _assert_problem(_ingest_url(api, f"{images.base}/missing.png"), 422, "url-bad-status")
    assert body["detail"] == "the URL answered 404"


def test_url_to_text_is_415(api: httpx.Client, images: ImageServer) -> None:
    _assert_problem(_ingest_url(api, f"{images.base}/notes.txt"), 415, "unsupported-media-type")


def test_url_endless_body_stops_at_the_cap_and_stores_nothing(
    api: httpx.Client, url_stack: Stack, images: ImageServer
) -> None:
    objects = url_stack.objects()
    before = set(objects.keys(""))
    body = _assert_problem(_ingest_url(api, f"{images.base}/endless.png"), 413, "file-too-large")
    assert str(MAX_BYTES) in body["detail"]
    assert set(objects.keys("")) == before
    assert images.endless_sent < 64_000_000  # the service stopped reading; the server gave up


def test_url_slow_answer_times_out_as_422(api: httpx.Client, images: ImageServer) -> None:
    body = _assert_problem(_ingest_url(api, f"{images.base}/slow.png"), 422, "url-unreachable")
    assert "2 s" in body["detail"]


def test_url_closed_port_is_422(api: httpx.Client) -> None:
    _assert_problem(_ingest_url(api, f"http://127.0.0.1:{free_port()}/a.png"), 422)


def test_url_unresolvable_host_is_422(api: httpx.Client) -> None:
    _assert_problem(_ingest_url(api, "http://no-such-host.invalid/a.png"), 422, "url-unreachable")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"url": 5}, 422),
        ({"url": "ftp://example.com/a.png"}, 400),
        ({"url": "file:///etc/passwd"}, 400),
        ({"url": "http://user:pw@example.com/a.png"}, 400),
        ({"url": "not a url"}, 400),
        ({"url": "http:///a.png"}, 400),
    ],
)
def test_url_bad_bodies_are_problems(api: httpx.Client, body: dict, status: int) -> None:
    _assert_problem(api.post("/api/v1/ingest/url", json=body), status)


def test_default_policy_refuses_loopback_without_connecting(
    strict_api: httpx.Client, images: ImageServer
) -> None:
    seen = len(images.paths)
    port = images.server_address[1]
    for host in ("127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"):
        response = _ingest_url(strict_api, f"http://{host}:{port}/img/x.png")
        _assert_problem(response, 400, "url-not-allowed")
    body = _ingest_url(strict_api, f"http://localhost:{port}/img/x.png").json()
    assert "127.0.0.1" not in body["detail"] and "::1" not in body["detail"]  # no resolved address
    assert len(images.paths) == seen  # refused before any connection was made


def test_every_redirect_target_is_checked_again(images: ImageServer) -> None:
    """The first hop is allowed, the redirect's target is not: the fetch stops there."""
    fetcher = UrlFetcher(
        MAX_BYTES, 5, is_allowed=lambda address: address == ipaddress.ip_address("127.0.0.1")
    )
    seen = len(images.paths)
    with pytest.raises(UrlNotAllowed) as refused:
        fetcher.fetch(f"{images.base}/away")
    assert refused.value.detail.startswith("127.0.0.2 ")
    assert images.paths[seen:] == ["/away"]
