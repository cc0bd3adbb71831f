"""A real HTTP server on loopback that speaks the ingest, search and admin contract, for the CLI's
tests.

It decides by content: PNG/JPEG magic bytes are images; an image containing ``FAILME`` fails in
the worker, ``STUCK`` never finishes; anything else is rejected as "not an image". ``verify``
reports the problems planted in ``library_problems``; a repair mends each one but those whose
image id is in ``unmendable``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

NOT_AN_IMAGE = "not an image; accepted formats are JPEG, PNG, WebP, GIF, BMP or TIFF"
MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class FakeApi:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.known: set[str] = set()
        self.uploads: list[dict[str, Any]] = []  # per request: filenames, tags, auth header
        self.in_flight = self.max_in_flight = 0
        self.unavailable = 0  # answer this many uploads with 503 first
        self.upload_delay = 0.0
        self.searches: list[dict[str, Any]] = []
        self.library_problems: list[dict[str, str]] = []  # kind, image_id, detail
        self.unmendable: set[str] = set()
        self.verifications: list[dict[str, Any]] = []  # the request bodies
        self.verify_status = 200
        self.ids = itertools.count(1)
        self.url = ""

    def ingest(
        self, parts: list[tuple[str, bytes]], tags: list[str], auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.upload_delay)
        with self.lock:
            self.in_flight -= 1
            if self.unavailable:
                self.unavailable -= 1
                return 503, problem(503, "Service unavailable", "the queue is not reachable")
            filenames = [name for name, _ in parts]
            self.uploads.append({"filenames": filenames, "tags": tags, "auth": auth})
            jobs = [self._accept(name, data) for name, data in parts]
        if all(job["state"] == "rejected" for job in jobs):
            errors = [{"filename": job["filename"], **job["problem"]} for job in jobs]
            return 415, problem(415, "Unsupported media type", NOT_AN_IMAGE, errors=errors)
        return 202, {"jobs": jobs}

    def _accept(self, name: str, data: bytes) -> dict[str, Any]:
        if not data.startswith(MAGIC):
            rejected = problem(415, "Unsupported media type", NOT_AN_IMAGE)
            return {
                "job_id": None,
                "image_id": None,
                "filename": name,
                "state": "rejected",
                "problem": rejected,
            }
        image_id = hashlib.sha256(data).hexdigest()
        state = "duplicate" if image_id in self.known else "queued"
        self.known.add(image_id)
        job_id = f"job-{next(self.ids)}"
        fate = "failed" if b"FAILME" in data else "stuck" if b"STUCK" in data else "done"
        self.jobs[job_id] = {
            "job_id": job_id,
            "state": state,
            "image_id": image_id,
            "filename": name,
            "error": None,
            "polls": 0,
            "fate": fate,
        }
        return {
            "job_id": job_id,
            "image_id": image_id,
            "filename": name,
            "state": state,
            "problem": None,
        }

    def job(self, job_id: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return 404, problem(404, "Not found", f"no job {job_id}")
            job["polls"] += 1
            if job["state"] in ("queued", "processing") and job["fate"] != "stuck":
                if job["polls"] == 1:
                    job["state"] = "processing"
                elif job["fate"] == "failed":
                    job.update(state="failed", error="could not decode the image: truncated data")
                else:
                    job["state"] = "done"
            return 200, {k: v for k, v in job.items() if k not in ("polls", "fate")}

    def search(self, query: str | None, filename: str | None = None) -> tuple[int, dict[str, Any]]:
        self.searches.append({"text": query, "file": filename})
        if query == "explode":
            return 503, problem(503, "Service unavailable", "the vector store is not reachable")
        hits = [hit(n, 0.9 - n / 10) for n in range(2)]
        return 200, {
            "query": query,
            "limit": 20,
            "offset": 0,
            "results": hits,
            "model": {"name": "tiny", "weights": "t.pt", "demo": True},
        }

    def verify(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.verifications.append(body)
        if self.verify_status != 200:
            return self.verify_status, problem(self.verify_status, "Forbidden", "admins only")
        repair = body.get("repair") is True
        problems = [
            {**p, "repaired": repair and p["image_id"] not in self.unmendable}
            for p in self.library_problems
        ]
        counts = {"catalog": 40, "index": 41, "originals": 40, "thumbnails": 39, "staging": 0}
        unrepaired = sum(not p["repaired"] for p in problems)
        return 200, {"counts": counts, "problems": problems, "unrepaired": unrepaired}


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def hit(n: int, score: float) -> dict[str, Any]:
    image_id = f"{n:064x}"
    return {
        "id": image_id,
        "score": score,
        "url": f"/images/{image_id}",
        "thumb_url": f"/images/{image_id}/thumb",
        "width": 640,
        "height": 480,
        "format": "JPEG",
        "filename": f"red-circle-{n:04d}.jpg",
        "bytes": 1234,
        "ingested_at": 1_700_000_000_000,
        "meta": {},
    }


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


def make_handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            kind = "application/json" if status < 400 else "application/problem+json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _parts(self) -> list[tuple[str, str, bytes]]:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            return multipart(self.headers["Content-Type"], body)

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            path, _, query = self.path.partition("?")
            if path.startswith("/api/v1/ingest/jobs/"):
                return self._send(*api.job(path.rsplit("/", 1)[-1]))
            if path == "/api/v1/image/search":
                from urllib.parse import parse_qs

                return self._send(*api.search(parse_qs(query).get("text", [""])[0]))
            self._send(404, problem(404, "Not found", path))

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.partition("?")[0]
            if path == "/api/v1/ingest":
                fields = self._parts()
                files = [(name, data) for field, name, data in fields if field == "files"]
                tags = [data.decode() for field, _, data in fields if field == "tags"]
                return self._send(*api.ingest(files, tags, self.headers.get("Authorization")))
            if path == "/api/v1/admin/verify":
                body = self.rfile.read(int(self.headers["Content-Length"]))
                return self._send(*api.verify(json.loads(body)))
            if path == "/api/v1/image/search":
                names = [name for field, name, _ in self._parts() if field == "file"]
                return self._send(*api.search(None, names[0] if names else None))
            self._send(404, problem(404, "Not found", path))

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


@pytest.fixture
def stack_url(frontdoor_url: str) -> str:
    """The real stack's front door (tests.support.stack)."""
    return frontdoor_url
