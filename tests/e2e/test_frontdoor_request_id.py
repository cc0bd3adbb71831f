"""The front door's request id (X-Request-ID), rendered the way ``make dev`` does and served by a
real nginx, with stand-ins for the three services that say which id reached them.

A well-formed id from the client is kept; anything else, or none, becomes Nginx's own. Either
way the same id reaches the service, comes back to the client once, and is in the access log.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.frontdoor import start_frontdoor
from tests.support.processes import wait_until

NGINX_ID = re.compile(r"[0-9a-f]{32}")
PATHS = ["/api/v1/ingest/jobs/j", "/api/v1/image/search?text=a", "/images/x/thumb"]


def id_echo_server() -> ThreadingHTTPServer:
    """A stand-in service: answers with the X-Request-ID it was sent, in the body and, as the
    services do, in its own X-Request-ID header."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            received = self.headers.get_all("X-Request-ID") or []
            data = json.dumps({"received": received}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-ID", received[0] if received else "none")
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class FrontDoor:
    url: str
    access_log: Path

    def get(self, path: str, request_id: str | None) -> tuple[list[str], list[str]]:
        """The ids the service received and the ids the client got back."""
        headers = {"X-Request-ID": request_id} if request_id is not None else {}
        response = httpx.get(f"{self.url}{path}", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        received: list[str] = response.json()["received"]
        return received, response.headers.get_list("X-Request-ID")

    def logged(self, request_id: str) -> dict[str, Any]:
        def line() -> dict[str, Any] | None:
            lines = [json.loads(s) for s in self.access_log.read_text().splitlines()]
            return next((entry for entry in lines if entry["request_id"] == request_id), None)

        return wait_until(line, 10, f"the access log line of {request_id}")


@pytest.fixture(scope="module")
def front_door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontDoor]:
    stand_ins = [id_echo_server() for _ in range(3)]
    urls = [f"http://127.0.0.1:{server.server_address[1]}" for server in stand_ins]
    work = tmp_path_factory.mktemp("request-id")
    proc, url = start_frontdoor(*urls, work / "run", work / "logs")
    yield FrontDoor(url, work / "run" / "access.log")
    proc.stop()
    for server in stand_ins:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", PATHS)
def test_a_well_formed_id_reaches_the_service_and_comes_back_once(
    front_door: FrontDoor, path: str
) -> None:
    given = f"upload-{PATHS.index(path)}.A_b"
    assert front_door.get(path, given) == ([given], [given])


@pytest.mark.parametrize("given", [None, "", "two words", "x" * 65, "a,b", 'quo"te'], ids=repr)
def test_a_missing_or_malformed_id_becomes_nginxs_own(
    front_door: FrontDoor, given: str | None
) -> None:
    received, returned = front_door.get(PATHS[1], given)
    assert len(received) == 1 and NGINX_ID.fullmatch(received[0])
    assert returned == received


def test_the_access_log_line_is_json_with_the_id_and_no_query_string(
    front_door: FrontDoor,
) -> None:
    front_door.get("/api/v1/image/search?text=secret", "logged-1")
    line = front_door.logged("logged-1")
    assert (line["service"], line["level"], line["status"]) == ("frontend", "info", 200)
    assert line["path"] == "/api/v1/image/search"
