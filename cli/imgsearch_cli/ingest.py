"""``imgsearch ingest``: find files, upload them in parallel batches, follow every job.

``--tag`` values go with every upload request, so each file lands in the library already tagged.
A refused credential (401, 403) ends the run with that ApiError: every other request would be
refused the same way, and each file marked failed would hide the one cause.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from imgsearch_cli.client import REFUSED_STATUSES, RETRY_STATUSES, ApiError, Client, problem_of

BATCH_BYTES = 150 * 1024 * 1024  # a request stays under the front door's 200 MB body cap
UPLOAD_ATTEMPTS = 3
RETRY_DELAY_S = 1.0  # then 2 s: a restarting service gets a moment
POLL_FIRST_S, POLL_MAX_S = 0.25, 3.0
# quarantined: a compliance check held the image for an admin (kept, not searchable)
FINAL = frozenset({"done", "duplicate", "quarantined", "failed", "unfinished"})
# What the API accepts; checked before the first upload, so a typo does not fail every batch.
TAG = re.compile(r"[\w .:/+\-]{1,64}")
MAX_TAGS = 32


@dataclass
class FileResult:
    path: Path
    state: str = "waiting"  # waiting | queued | processing | done | duplicate | quarantined
    #                         | failed | unfinished
    job_id: str | None = None
    image_id: str | None = None
    reason: str | None = None

    def finish(self, state: str, reason: str | None = None) -> None:
        self.state, self.reason = state, reason


@dataclass
class Summary:
    results: list[FileResult]
    seconds: float = 0.0
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = {s: 0 for s in ("done", "duplicate", "quarantined", "failed", "unfinished")}
        for result in self.results:
            self.counts[result.state] = self.counts.get(result.state, 0) + 1

    @property
    def ok(self) -> bool:
        """Every file is in the library (newly or already); rejected files count as failed."""
        return self.counts["failed"] == 0 and self.counts["unfinished"] == 0

    def problems(self) -> list[FileResult]:
        return [r for r in self.results if r.state in ("failed", "unfinished")]

    def as_dict(self) -> dict[str, Any]:
        files = [{**asdict(r), "path": str(r.path)} for r in self.results]
        return {**self.counts, "seconds": round(self.seconds, 3), "files": files}


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, and files under folders named (recursively, hidden ones skipped), in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                visible = (name for name in sorted(files) if not name.startswith("."))
                found.extend(Path(root) / name for name in visible)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def parse_tags(value: str) -> list[str]:
    """One ``--tag`` value: a tag or a comma-separated list, normalised as the API keeps them."""
    tags = [tag.strip().lower() for tag in value.split(",")]
    bad = [tag for tag in tags if not TAG.fullmatch(tag)]
    if bad:
        raise argparse.ArgumentTypeError(
            f"{bad[0]!r} is not a tag: up to 64 letters, digits, spaces and . : / + - _"
        )
    return tags


def make_batches(
    files: list[FileResult], size: int, max_bytes: int = BATCH_BYTES
) -> list[list[FileResult]]:
    """Runs of up to ``size`` files and ``max_bytes`` bytes (a bigger file goes alone)."""
    batches: list[list[FileResult]] = []
    current: list[FileResult] = []
    current_bytes = 0
    for item in files:
        item_bytes = item.path.stat().st_size
        if current and (len(current) >= size or current_bytes + item_bytes > max_bytes):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(item)
        current_bytes += item_bytes
    return batches + ([current] if current else [])


class Ingest:
    """One run: ``run(paths)`` returns the Summary; ``on_event(kind, n)`` drives a progress bar."""

    def __init__(
        self,
        client: Client,
        batch_size: int = 8,
        concurrency: int = 4,
        timeout: float = 600.0,
        on_event: Callable[[str, int], None] = lambda kind, count: None,
        tags: list[str] | None = None,
    ) -> None:
        self.client = client
        self.tags = tags or []
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.timeout = timeout
        self.on_event = on_event

    def run(self, paths: list[Path]) -> Summary:
        started = time.monotonic()
        deadline = started + self.timeout
        results = [FileResult(path) for path in paths]
        pending: dict[str, FileResult] = {}
        with ThreadPoolExecutor(self.concurrency) as uploads, ThreadPoolExecutor(4) as polls:
            running: dict[Future[None], list[FileResult]] = {
                uploads.submit(self._upload, batch): batch
                for batch in make_batches(results, self.batch_size)
            }
            delay = POLL_FIRST_S
            while running or pending:
                if time.monotonic() > deadline:
                    uploads.shutdown(wait=True, cancel_futures=True)
                    break
                done, _ = wait(running, timeout=delay, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = running.pop(future)
                    if (error := future.exception()) is not None:
                        uploads.shutdown(wait=False, cancel_futures=True)
                        raise error
                    self.on_event("uploaded", len(batch))
                    for item in batch:
                        if item.state in FINAL:
                            self.on_event("finished", 1)
                        else:
                            pending[item.job_id or ""] = item
                moved = sum(polls.map(self._check, list(pending.values())))
                for job_id, item in list(pending.items()):
                    if item.state in FINAL:
                        del pending[job_id]
                        self.on_event("finished", 1)
                delay = POLL_FIRST_S if moved else min(POLL_MAX_S, delay * 1.5)
        for item in results:
            if item.state not in FINAL:
                what = "not uploaded" if item.state == "waiting" else f"still {item.state}"
                item.finish("unfinished", f"{what} when the {self.timeout:g} s timeout ran out")
        return Summary(results, time.monotonic() - started)

    def _upload(self, batch: list[FileResult]) -> None:
        reason = "not uploaded"
        for attempt in range(UPLOAD_ATTEMPTS):
            if attempt:
                time.sleep(RETRY_DELAY_S * 2 ** (attempt - 1))
            try:
                response = self.client.upload([item.path for item in batch], self.tags)
            except httpx.TransportError as exc:
                reason = f"could not reach {self.client.base_url}: {exc}"
                continue
            except OSError as exc:
                reason = f"could not read a file of this batch: {exc}"
                break
            if response.status_code in REFUSED_STATUSES:
                raise ApiError(response.status_code, problem_of(response))
            if response.status_code not in RETRY_STATUSES:
                return self._apply(batch, response)
            reason = str(problem_of(response).get("detail"))
        for item in batch:
            item.finish("failed", reason)

    @staticmethod
    def _apply(batch: list[FileResult], response: httpx.Response) -> None:
        """Per-file outcomes of an answered upload: 202 with jobs, or a problem with ``errors``."""
        body = problem_of(response) if response.status_code != 202 else response.json()
        entries = body.get("jobs") or body.get("errors") or []
        for index, item in enumerate(batch):
            entry = _match(entries, index, item.path.name)
            if response.status_code != 202:
                problem = entry or body
                item.finish("failed", problem.get("detail") or problem.get("title"))
            elif entry is None:
                item.finish("failed", "the server did not report on this file")
            elif entry["state"] == "rejected":
                item.finish("failed", (entry.get("problem") or {}).get("detail", "rejected"))
            else:
                item.job_id, item.image_id = entry["job_id"], entry["image_id"]
                item.state = entry["state"]

    def _check(self, item: FileResult) -> bool:
        """Poll one job once; True when its state moved."""
        try:
            job = self.client.job(item.job_id or "")
        except ApiError as exc:
            if exc.status in REFUSED_STATUSES:
                raise
            if exc.status != 404:
                return False
            job = {"state": "failed", "error": "the server no longer knows this job"}
        except httpx.TransportError:
            return False  # try again next round
        if job["state"] == item.state:
            return False
        reason = (job.get("error") or "processing failed") if job["state"] == "failed" else None
        item.state, item.reason = job["state"], reason
        item.image_id = job.get("image_id") or item.image_id
        return True


def _match(entries: list[dict[str, Any]], index: int, filename: str) -> dict[str, Any] | None:
    """The answer for the index-th file: same position (the API keeps order), else same name."""
    if index < len(entries) and entries[index].get("filename") == filename:
        return entries[index]
    named = [e for e in entries if e.get("filename") == filename]
    return named[0] if named else (entries[index] if index < len(entries) else None)
