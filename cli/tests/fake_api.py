"""The library half of the CLI's fake server: uploads, jobs, search and verify, by the contract.

It decides by content: PNG/JPEG magic bytes are images; an image containing ``FAILME`` fails in
the worker, ``STUCK`` never finishes; anything else is rejected as "not an image". ``verify``
reports the problems planted in ``library_problems``; a repair mends each one but those whose
image id is in ``unmendable``. Who may call what is ``identity``'s business (``fake_identity``).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from typing import Any

from cli.tests.fake_cameras import FakeCameras
from cli.tests.fake_identity import FakeIdentity, problem

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
        self.identity = FakeIdentity()
        self.cameras = FakeCameras()
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
        counts["quarantined"] = 2
        unrepaired = sum(not p["repaired"] for p in problems)
        return 200, {"counts": counts, "problems": problems, "unrepaired": unrepaired}


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
