"""One real stack for the search suite and a labelled library of shape pictures indexed in it.

Labels are keyed by image id (the SHA-256 of the bytes, computed here) and the files are sent under
meaningless names, so nothing the service could read off a filename can score a hit. The library
is ingested in two batches with a timestamp taken between them: 72 squares first, then a few wide
pictures, so the time and size filters each have data that only they can separate.
"""

import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image, ImageOps

from imagesearch_samples.shapes import ShapeSpec, samples
from tests.support.images import encode
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

HELD_OUT_SEED = 424242  # never used by tools/train_tiny_clip.py
SQUARE, WIDE = (160, 160), (240, 120)
# Search-by-picture caps for this suite's searchapi: the library's own pictures fit under both.
SEARCH_MAX_BYTES, SEARCH_MAX_PIXELS = 100_000, 40_000


@dataclass
class Indexed:
    spec: ShapeSpec
    image_id: str
    data: bytes
    format: str
    width: int
    height: int


@dataclass
class Library:
    first: list[Indexed]  # ingested before split_ms, all SQUARE
    second: list[Indexed]  # ingested at or after split_ms, all WIDE
    split_ms: int

    @property
    def pictures(self) -> list[Indexed]:
        return self.first + self.second

    def label(self, image_id: str) -> tuple[str, str]:
        """(colour, shape) of an indexed picture, by its id."""
        spec = next(p.spec for p in self.pictures if p.image_id == image_id)
        return spec.colour, spec.shape

    def ids(self, pictures: list[Indexed]) -> set[str]:
        return {p.image_id for p in pictures}


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("search")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
        stack.start_searchapi(
            LIMITS__MAX_BYTES=str(SEARCH_MAX_BYTES), LIMITS__MAX_PIXELS=str(SEARCH_MAX_PIXELS)
        )
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def search(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("searchapi", timeout=60) as client:
        yield client


def _squares() -> list[Indexed]:
    """72 pictures the model never saw (3 per colour+shape class), PNG and JPEG alternating."""
    made = []
    for i, (spec, image) in enumerate(samples(72, seed=HELD_OUT_SEED, image_size=SQUARE[0])):
        fmt = "JPEG" if i % 2 else "PNG"
        data = encode(image, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        made.append(Indexed(spec, hashlib.sha256(data).hexdigest(), data, fmt, *SQUARE))
    return made


def _wides() -> list[Indexed]:
    """Four PNGs twice as wide as high: the shape and its mirror image side by side."""
    made = []
    for spec, half in samples(24, seed=HELD_OUT_SEED + 1, image_size=WIDE[1])[::6]:
        image = Image.new("RGB", WIDE)
        image.paste(half, (0, 0))
        image.paste(ImageOps.mirror(half), (WIDE[1], 0))
        data = encode(image, "PNG")
        made.append(Indexed(spec, hashlib.sha256(data).hexdigest(), data, "PNG", *WIDE))
    return made


def _ingest(stack: Stack, pictures: list[Indexed]) -> None:
    files = []
    for picture in pictures:
        kind = picture.format.lower()
        files.append(("files", (f"{secrets.token_hex(6)}.{kind}", picture.data, f"image/{kind}")))
    with stack.client("ingestapi", timeout=120) as ingest:
        jobs = ingest.post("/api/v1/ingest", files=files).json()["jobs"]
        assert [job["image_id"] for job in jobs] == [p.image_id for p in pictures]
        for job in jobs:
            assert wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])["state"] == "done"


def _wait_searchable(search: httpx.Client, count: int) -> None:
    """Searches read with bounded staleness (about a second): wait until ``count`` are visible."""

    def visible() -> bool:
        params: dict[str, Any] = {"text": "a shape", "limit": 100}
        return len(search.get("/api/v1/image/search", params=params).json()["results"]) == count

    wait_until(visible, 30, f"{count} pictures to be searchable", interval=0.3)


@pytest.fixture(scope="module")
def library(stack: Stack, search: httpx.Client) -> Library:
    first, second = _squares(), _wides()
    _ingest(stack, first)
    _wait_searchable(search, len(first))
    split_ms = int(time.time() * 1000)
    listed = search.get("/api/v1/image", params={"limit": 100}).json()["results"]
    assert max(r["ingested_at"] for r in listed) < split_ms
    _ingest(stack, second)
    _wait_searchable(search, len(first) + len(second))
    return Library(first, second, split_ms)
