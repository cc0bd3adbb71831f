from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.shapes import ShapeSpec, samples
from tests.support.images import encode
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

HELD_OUT_SEED = 424242  # never used by tools/train_tiny_clip.py


@dataclass
class Indexed:
    spec: ShapeSpec
    image_id: str
    data: bytes
    format: str


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("search")
    stack.start_ingestapi()
    stack.start_worker()
    stack.start_searchapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def search(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.urls["searchapi"], timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def indexed(stack: Stack, search: httpx.Client) -> list[Indexed]:
    """72 pictures the model never saw (3 per colour+shape class), PNG and JPEG, ingested."""
    pictures = []
    for i, (spec, image) in enumerate(samples(72, seed=HELD_OUT_SEED, image_size=160)):
        fmt = "JPEG" if i % 2 else "PNG"
        pictures.append(
            (spec, encode(image, fmt, **({"quality": 90} if fmt == "JPEG" else {})), fmt)
        )
    files = [
        ("files", (f"{s.colour}-{s.shape}-{i:04d}.{f.lower()}", d, f"image/{f.lower()}"))
        for i, (s, d, f) in enumerate(pictures)
    ]
    with httpx.Client(base_url=stack.urls["ingestapi"], timeout=120) as ingest:
        jobs = ingest.post("/api/v1/ingest", files=files).json()["jobs"]
        for job in jobs:
            assert wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    # Searches read with bounded staleness (about a second): wait until all are visible.
    wait_until(
        lambda: (
            len(
                search.get("/api/v1/image/search", params={"text": "a shape", "limit": 100}).json()[
                    "results"
                ]
            )
            == len(pictures)
        ),
        30,
        "every ingested picture to be searchable",
        interval=0.3,
    )
    return [Indexed(s, j["image_id"], d, f) for (s, d, f), j in zip(pictures, jobs, strict=True)]
