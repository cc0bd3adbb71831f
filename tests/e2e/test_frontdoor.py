"""The front door's Nginx config, rendered the way ``make dev`` does and served by a real nginx.

Most tests have no services behind it (their addresses are closed ports, or small servers that
say who they are): they are about what Nginx itself does. The ``/images/`` tests run against the
whole stack with one ingested picture: what cdnapi promises (ETag, Range, If-None-Match, immutable
caching) must survive the proxy.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support.frontdoor import FRONTEND, start_frontdoor
from tests.support.images import marked_corner, marked_jpeg
from tests.support.processes import free_port
from tests.support.stack import Stack, wait_for_job

CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'"


@pytest.fixture(scope="module")
def front_door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every service is "down"
    work = tmp_path_factory.mktemp("frontdoor")
    proc, url = start_frontdoor(closed, closed, closed, work / "run", work / "logs")
    yield url
    proc.stop()


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (names case-insensitive: Go sends ``Etag``) and body of one GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_page_is_served_with_security_headers(front_door: str) -> None:
    status, headers, body = fetch(f"{front_door}/")
    assert status == 200 and b'<script type="module" src="/js/app.js">' in body
    assert headers["Content-Security-Policy"].startswith(CSP)
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cache-Control"] == "no-cache"


def test_links_into_the_page_fall_back_to_it(front_door: str) -> None:
    status, headers, body = fetch(f"{front_door}/some/shared/link")
    assert status == 200 and headers["Content-Type"].startswith("text/html")


def test_scripts_are_served_as_javascript_and_gzipped(front_door: str) -> None:
    status, headers, body = fetch(f"{front_door}/js/app.js", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Type"] == "text/javascript"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (FRONTEND / "js" / "app.js").read_bytes()


def test_healthz_answers_without_the_services(front_door: str) -> None:
    assert fetch(f"{front_door}/healthz")[:3:2] == (200, b"ok\n")


def test_unknown_api_paths_are_problems(front_door: str) -> None:
    status, headers, body = fetch(f"{front_door}/api/v2/anything")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 404


DOWN = ["/api/v1/ingest/jobs/x", "/api/v1/image/search?text=a", "/api/v1/admin/verify", "/images/x"]


@pytest.mark.parametrize("path", DOWN)
def test_a_service_that_is_down_is_a_503_problem(front_door: str, path: str) -> None:
    status, headers, body = fetch(f"{front_door}{path}")
    assert status == 503 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["detail"].startswith("the service behind this address is not answering")
    assert headers["Content-Security-Policy"].startswith(CSP)


def whoami_server(name: str) -> ThreadingHTTPServer:
    """A stand-in service that answers every request with its name, the method, path and body."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            answer = {"service": name, "method": self.command, "path": self.path, "body": body}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def routed_front_door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The front door with stand-ins for the three services, to see which one a path reaches."""
    stand_ins = [whoami_server(name) for name in ("ingestapi", "searchapi", "cdnapi")]
    urls = [f"http://127.0.0.1:{server.server_address[1]}" for server in stand_ins]
    work = tmp_path_factory.mktemp("routed")
    proc, url = start_frontdoor(*urls, work / "run", work / "logs")
    yield url
    proc.stop()
    for server in stand_ins:
        server.shutdown()
        server.server_close()


ROUTES = [
    ("/api/v1/admin/verify", "ingestapi"),
    ("/api/v1/admin/anything/else", "ingestapi"),
    ("/api/v1/ingest", "ingestapi"),
    ("/api/v1/ingest/jobs/x", "ingestapi"),
    ("/api/v1/cameras", "ingestapi"),
    ("/api/v1/cameras/x", "ingestapi"),
    ("/api/v1/image?sort=newest&tag=a", "searchapi"),
    ("/api/v1/image/search?text=a", "searchapi"),
    ("/api/v1/image/cameras", "searchapi"),
    ("/images/x/thumb", "cdnapi"),
]


@pytest.mark.parametrize(("path", "service"), ROUTES)
def test_each_api_path_reaches_its_service(routed_front_door: str, path: str, service: str) -> None:
    body = '{"repair": true}'
    headers = {"Content-Type": "application/json"}
    response = httpx.post(f"{routed_front_door}{path}", content=body, headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"service": service, "method": "POST", "path": path, "body": body}
    assert response.headers["Content-Security-Policy"].startswith(CSP)


@pytest.mark.parametrize(
    "path", ["/api/v1/administrator", "/api/v1/admins/verify", "/api/v1/camerasx"]
)
def test_paths_that_only_look_like_admin_ones_are_nginx_404s(
    routed_front_door: str, path: str
) -> None:
    status, headers, body = fetch(f"{routed_front_door}{path}")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["detail"] == "no such API endpoint"


def render(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = FRONTEND / "render_nginx.py"
    out = tmp_path / "out.conf"
    return subprocess.run(
        [sys.executable, str(script), str(FRONTEND / "nginx.conf.template"), str(out)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
    )


def test_render_names_the_missing_variables(tmp_path: Path) -> None:
    result = render(tmp_path, INGESTAPI_ADDR="127.0.0.1:8000", FRONTEND_PORT="3000")
    assert result.returncode == 2
    assert "CDNAPI_ADDR, FRONTEND_ROOT, SEARCHAPI_ADDR" in result.stderr


def test_render_fills_only_its_variables(tmp_path: Path) -> None:
    addresses = {f"{name}_ADDR": "127.0.0.1:9" for name in ("INGESTAPI", "SEARCHAPI", "CDNAPI")}
    result = render(tmp_path, **addresses, FRONTEND_PORT="3000", FRONTEND_ROOT=str(FRONTEND))
    assert result.returncode == 0, result.stderr
    conf = (tmp_path / "out.conf").read_text()
    directives = [line for line in conf.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in directives if "${" in line]
    assert f"root {FRONTEND};" in conf
    assert "X-Forwarded-For $remote_addr;" in conf and "try_files $uri /index.html;" in conf


# -- /images/ through the front door, with the whole stack behind it ---------------------------

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class Stored:
    url: str
    image_id: str
    data: bytes


@pytest.fixture(scope="module")
def stored(frontdoor_stack: Stack, frontdoor_url: str) -> Stored:
    """A 320x240 JPEG, EXIF-tagged to be shown turned 90° clockwise, ingested through Nginx."""
    data = marked_jpeg(orientation=6, width=320, height=240)
    with frontdoor_stack.client("frontdoor") as client:
        files = {"files": ("turned.jpg", data, "image/jpeg")}
        [job] = client.post("/api/v1/ingest", files=files).json()["jobs"]
        assert wait_for_job(client, frontdoor_url, job["job_id"])["state"] == "done"
    return Stored(frontdoor_url, job["image_id"], data)


def test_image_through_the_front_door_keeps_its_etag_and_immutable_caching(
    stored: Stored,
) -> None:
    status, headers, body = fetch(f"{stored.url}/images/{stored.image_id}")
    assert status == 200 and body == stored.data
    assert headers["ETag"] == f'"{stored.image_id}"'
    assert headers.get_all("Cache-Control") == [IMMUTABLE]  # once: Nginx adds none of its own
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]


def test_range_request_through_the_front_door_is_a_206_of_those_bytes(stored: Stored) -> None:
    total = len(stored.data)
    status, headers, body = fetch(f"{stored.url}/images/{stored.image_id}", Range="bytes=100-199")
    assert status == 206 and body == stored.data[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{total}"
    assert headers["ETag"] == f'"{stored.image_id}"'


def test_if_none_match_through_the_front_door_is_a_304(stored: Stored) -> None:
    url = f"{stored.url}/images/{stored.image_id}"
    status, headers, body = fetch(url, **{"If-None-Match": f'"{stored.image_id}"'})
    assert (status, body) == (304, b"")
    assert headers["ETag"] == f'"{stored.image_id}"' and headers["Cache-Control"] == IMMUTABLE
    assert fetch(url, **{"If-None-Match": '"some-other-version"'})[0] == 200


def test_unknown_admin_path_is_ingestapis_404_problem(frontdoor_url: str) -> None:
    status, headers, body = fetch(f"{frontdoor_url}/api/v1/admin/no-such-tool")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"] == "urn:imagesearch:problem:http-404"  # the service's, not Nginx's
    assert problem["detail"] != "no such API endpoint"


def test_stored_thumbnail_is_upright_and_cached_like_the_image(stored: Stored) -> None:
    status, headers, body = fetch(f"{stored.url}/images/{stored.image_id}/thumb")
    assert status == 200 and headers["Content-Type"] == "image/webp"
    assert headers["ETag"] == f'"{stored.image_id}-thumb"'
    assert headers["Cache-Control"] == IMMUTABLE
    thumb = Image.open(BytesIO(body))
    assert thumb.size == (192, 256)  # turned upright, then longest side 256
    assert marked_corner(thumb) == "top-right"  # turned clockwise, as orientation 6 says
