"""Concurrent clients uploading through ingestapi, each with its own editor key, the way a
client should: a 202 is the only answer that counts as accepted; a 503 or a 429 is waited out
(its Retry-After, capped) and sent again; so is a connection that failed. Anything else is kept
as a refusal for the soak to report (a 500 is a bug, never a fault to retry)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from tests.support.images import encode, picture

RETRYABLE = (429, 503)
MAX_WAIT_S = 5.0
GIVE_UP_S = 240.0  # longer than any outage in a plan


@dataclass(frozen=True)
class Accepted:
    job_id: str
    image_id: str
    state: str  # what the 202 said: queued or duplicate


@dataclass
class Uploads:
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "status: body" of each answer not 202
    retried: Counter[str] = field(default_factory=Counter)  # "503", "429", "connection"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note_retry(self, why: str) -> None:
        with self._lock:
            self.retried[why] += 1


def soak_images(count: int, duplicate_every: int) -> list[bytes]:
    """``count`` uploads: distinct pictures, except that every ``duplicate_every``-th sends the
    bytes of an earlier one again from another client: alternately the one just before (most
    likely still in flight) and one long done."""
    uploads: list[bytes] = []
    for n in range(count):
        if n and n % duplicate_every == 0:
            uploads.append(uploads[n - 1 if n % (2 * duplicate_every) == 0 else n // 2])
        else:
            colour = (n % 256, n // 256 * 40 % 256, n * 7 % 256)
            uploads.append(encode(picture(64 + n % 17, 48 + n % 13, colour), "PNG"))
    return uploads


def _upload(client: httpx.Client, data: bytes, number: int, uploads: Uploads) -> None:
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        try:
            response = client.post(
                "/api/v1/ingest", files=[("files", (f"soak-{number}.png", data))]
            )
        except httpx.TransportError:
            uploads.note_retry("connection")
            time.sleep(1)
            continue
        if response.status_code == 202:
            [job] = response.json()["jobs"]
            uploads.accepted.append(Accepted(job["job_id"], job["image_id"], job["state"]))
            return
        if response.status_code not in RETRYABLE:
            uploads.refused.append(f"{response.status_code}: {response.text[:300]}")
            return
        uploads.note_retry(str(response.status_code))
        retry_after = float(response.headers.get("retry-after", "1"))
        time.sleep(min(max(retry_after, 0.5), MAX_WAIT_S))
    uploads.refused.append(f"gave up on upload {number} after {GIVE_UP_S:.0f}s of refusals")


def _client(
    base_url: str,
    key: str,
    mine: list[tuple[int, bytes]],
    due: Callable[[int], float],
    uploads: Uploads,
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for number, data in mine:
            time.sleep(max(0.0, due(number) - time.monotonic()))
            _upload(client, data, number, uploads)


def upload_all(
    base_url: str, keys: list[str], images: list[bytes], span_s: float, started: float
) -> Uploads:
    """Every image uploaded by ``len(keys)`` clients in turn, spread evenly over ``span_s``."""
    uploads = Uploads()
    step = span_s / len(images)

    def due(number: int) -> float:
        return started + step * number

    with ThreadPoolExecutor(len(keys)) as pool:
        futures = [
            pool.submit(
                _client,
                base_url,
                key,
                [(n, images[n]) for n in range(i, len(images), len(keys))],
                due,
                uploads,
            )
            for i, key in enumerate(keys)
        ]
        for future in futures:
            future.result()
    return uploads
