"""The front door's Nginx config, rendered the way ``make dev`` does and served by a real nginx.

No services behind it (their addresses are closed ports): this is about what Nginx itself does.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.frontdoor import FRONTEND, start_frontdoor
from tests.support.processes import free_port

CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'"


@pytest.fixture(scope="module")
def front_door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every service is "down"
    work = tmp_path_factory.mktemp("frontdoor")
    proc, url = start_frontdoor(closed, closed, closed, work / "run", work / "logs")
    yield url
    proc.stop()


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


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


DOWN = ["/api/v1/ingest/jobs/x", "/api/v1/image/search?text=a", "/images/x"]


@pytest.mark.parametrize("path", DOWN)
def test_a_service_that_is_down_is_a_503_problem(front_door: str, path: str) -> None:
    status, headers, body = fetch(f"{front_door}{path}")
    assert status == 503 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["detail"].startswith("the service behind this address is not answering")
    assert headers["Content-Security-Policy"].startswith(CSP)


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
    assert "$proxy_add_x_forwarded_for" in conf and "try_files $uri /index.html;" in conf
