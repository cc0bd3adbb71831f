"""A real HTTP server on loopback that speaks the ingest, search, admin and identity contract,
for the CLI's tests: ``fake_api`` (what the library does with uploads, searches, verify) and
``fake_identity`` (users, keys) hold the state; this routes requests to them.

Every route checks the caller's key first: reads need a viewer unless ``identity.public_read``,
ingest an editor, verify, users and keys an admin; ``/auth/me`` answers anyone.

Each test runs in an empty working folder with no ``IMGSEARCH_*`` variables, so a developer's
own key or ``data/admin-credentials`` never reaches the CLI under test.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest

from cli.tests.fake_api import FakeApi
from cli.tests.fake_identity import ANYONE, READ, Answer, problem
from tests.support.stack import Stack


def multipart(content_type: str, body: bytes) -> list[tuple[str, str, bytes]]:
    """(field, filename, bytes) of each part."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    ]


Route = tuple[str, str, str, Callable[..., Answer]]  # method, path pattern, who, answer


def routes(api: FakeApi) -> list[Route]:
    """Who may call each route (a role, READ or ANYONE) and how it is answered: ``answer(request,
    *path_parameters)``."""
    identity, cameras = api.identity, api.cameras
    return [
        ("GET", "/api/v1/ingest/jobs/([^/]+)", READ, lambda r, job_id: api.job(job_id)),
        ("GET", "/api/v1/image/search", READ, lambda r: api.search(r.query("text"))),
        ("POST", "/api/v1/image/search", READ, lambda r: api.search(None, r.upload_name())),
        ("POST", "/api/v1/ingest", "editor", lambda r: api.ingest(*r.ingest_parts())),
        ("POST", "/api/v1/admin/verify", "admin", lambda r: api.verify(r.json())),
        ("GET", "/api/v1/cameras", "admin", lambda r: cameras.list()),
        ("POST", "/api/v1/cameras", "admin", lambda r: cameras.create(r.json())),
        ("DELETE", "/api/v1/cameras/([^/]+)", "admin", lambda r, i: cameras.delete(i)),
        ("POST", "/api/v1/ingest/rtsp", "editor", lambda r: cameras.start(r.json())),
        ("GET", "/api/v1/ingest/captures/([^/]+)", READ, lambda r, i: cameras.poll(i)),
        ("GET", "/api/v1/auth/me", ANYONE, lambda r: identity.me(r.authorization)),
        ("GET", "/api/v1/admin/users", "admin", lambda r: identity.list_users()),
        ("POST", "/api/v1/admin/users", "admin", lambda r: identity.create_user(r.json())),
        (
            "PATCH",
            "/api/v1/admin/users/([^/]+)",
            "admin",
            lambda r, name: identity.update_user(name, r.json()),
        ),
        (
            "PUT",
            "/api/v1/admin/users/([^/]+)/password",
            "admin",
            lambda r, name: identity.set_password(name, r.json()),
        ),
        ("GET", "/api/v1/admin/keys", "admin", lambda r: identity.list_keys()),
        (
            "POST",
            "/api/v1/admin/keys",
            "admin",
            lambda r: identity.create_key(r.json(), r.authorization),
        ),
        (
            "DELETE",
            "/api/v1/admin/keys/([^/]+)",
            "admin",
            lambda r, prefix: identity.revoke_key(prefix),
        ),
    ]


def make_handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    table = [(method, re.compile(path), who, answer) for method, path, who, answer in routes(api)]

    class Handler(BaseHTTPRequestHandler):
        body = b""

        def log_message(self, *_: object) -> None:
            pass

        @property
        def authorization(self) -> str | None:
            return self.headers.get("Authorization")

        def query(self, name: str) -> str:
            return parse_qs(self.path.partition("?")[2]).get(name, [""])[0]

        def json(self) -> dict[str, Any]:
            body: dict[str, Any] = json.loads(self.body)
            return body

        def parts(self) -> list[tuple[str, str, bytes]]:
            return multipart(self.headers["Content-Type"], self.body)

        def ingest_parts(self) -> tuple[list[tuple[str, bytes]], list[str], str | None]:
            fields = self.parts()
            files = [(name, data) for field, name, data in fields if field == "files"]
            tags = [data.decode() for field, _, data in fields if field == "tags"]
            return files, tags, self.authorization

        def upload_name(self) -> str | None:
            names = [name for field, name, _ in self.parts() if field == "file"]
            return names[0] if names else None

        def _send(self, status: int, body: dict[str, Any] | None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if body is not None:
                kind = "application/json" if status < 400 else "application/problem+json"
                self.send_header("Content-Type", kind)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="imagesearch"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _dispatch(self, method: str) -> None:
            # Read the whole body first: answering before it is read could reset the connection.
            self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.partition("?")[0]
            for route_method, pattern, who, answer in table:
                match = pattern.fullmatch(path)
                if route_method == method and match:
                    refusal = api.identity.refusal(self.authorization, who)
                    if refusal:
                        api.identity.refused.append(f"{method} {path}")
                    params = [unquote(group) for group in match.groups()]
                    return self._send(*(refusal or answer(self, *params)))
            self._send(404, problem(404, "Not found", path))

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's names)
            self._dispatch("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._dispatch("POST")

        def do_PATCH(self) -> None:  # noqa: N802
            self._dispatch("PATCH")

        def do_PUT(self) -> None:  # noqa: N802
            self._dispatch("PUT")

        def do_DELETE(self) -> None:  # noqa: N802
            self._dispatch("DELETE")

    return Handler


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    # shutdown() waits up to one poll interval (0.5 s by default): per test, that adds up
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_ambient_credentials(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The integration tests are left alone: they run against a stack that has its own key."""
    if request.node.get_closest_marker("integration"):
        return
    for name in ("IMGSEARCH_API_KEY", "IMGSEARCH_CREDENTIALS", "IMGSEARCH_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def use_key(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """``use_key(role)``: a new key of the fake's, in IMGSEARCH_API_KEY; returns the key."""

    def use(role: str) -> str:
        key = fake_api.identity.add_key(role, name=f"test-{role}")
        monkeypatch.setenv("IMGSEARCH_API_KEY", key)
        return key

    return use


@pytest.fixture
def stack_url(frontdoor_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real stack's front door (tests.support.stack), with the stack admin's key in
    IMGSEARCH_API_KEY, as a user of ``make dev`` would have it."""
    monkeypatch.setenv("IMGSEARCH_API_KEY", frontdoor_stack.admin_key)
    return frontdoor_stack.urls["frontdoor"]
