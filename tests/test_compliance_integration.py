"""Compliance checks on the real parts: ingestapi → a worker configured with checks → MinIO,
Milvus and the catalog, read back through searchapi, cdnapi and the admin's quarantine routes.

The worker's rules, on the tiny model:
- ``red-circles``: zero-shot "a red circle" at 0.8, quarantine. Measured on these samples
  (``samples(72, seed=11)``, PNG): red circles score 0.89-0.96 against the prompt, every other
  picture at most 0.70 (a blue circle; red squares 0.60-0.66), so 0.8 leaves a margin either way.
- ``no-gif``: format policy, PNG and JPEG only, reject.
- ``gps``: location policy, coarsen.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imagesearch_samples.shapes import samples
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.domain import image_id_of
from tests.support.images import encode, jpeg_with_exif
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

CHECKS = [
    {
        "name": "red-circles",
        "kind": "zero_shot",
        "prompts": ["a red circle"],
        "threshold": 0.8,
        "outcome": "quarantine",
    },
    {"name": "no-gif", "kind": "format_policy", "formats": ["png", "jpeg"]},
    {"name": "gps", "kind": "location", "policy": "coarsen"},
]
RED_CIRCLES = (0, 24, 48)  # indices in samples(72, seed=11)
OTHERS = (1, 4, 8, 20, 25, 32, 49, 68)  # red squares, circles of other colours


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("compliance")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker(COMPLIANCE__CHECKS=json.dumps(CHECKS))
        stack.start_searchapi()
        stack.start_cdnapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def ingest(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("ingestapi") as client:
        yield client


@pytest.fixture(scope="module")
def search(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("searchapi") as client:
        yield client


def upload(stack: Stack, ingest: httpx.Client, files: dict[str, bytes]) -> dict[str, Any]:
    """Upload, wait for every job; the final job body of each file, by image id."""
    parts = [("files", (name, data)) for name, data in files.items()]
    jobs = ingest.post("/api/v1/ingest", files=parts).json()["jobs"]
    return {
        job["image_id"]: wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])
        for job in jobs
    }


@pytest.fixture(scope="module")
def shapes(stack: Stack, ingest: httpx.Client) -> dict[str, tuple[str, dict[str, Any]]]:
    """The samples, ingested: image id → (label, final job)."""
    made = samples(72, seed=11)
    files = {f"{i:02d}.png": encode(made[i][1], "PNG") for i in RED_CIRCLES + OTHERS}
    labels = {image_id_of(data): made[int(name[:2])][0].label for name, data in files.items()}
    return {
        image_id: (labels[image_id], job) for image_id, job in upload(stack, ingest, files).items()
    }


def ids_of(shapes: dict[str, tuple[str, dict[str, Any]]], red: bool) -> list[str]:
    return sorted(i for i, (label, _) in shapes.items() if (label == "red circle") == red)


def found_by_search(search: httpx.Client, text: str) -> list[str]:
    response = search.get("/api/v1/image/search", params={"text": text, "limit": 50})
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["results"]]


def held_ids(ingest: httpx.Client) -> set[str]:
    response = ingest.get("/api/v1/admin/quarantine")
    assert response.status_code == 200, response.text
    return {image["image_id"] for image in response.json()["images"]}


def test_red_circles_end_quarantined_and_every_other_shape_done(
    shapes: dict[str, tuple[str, dict[str, Any]]],
) -> None:
    states = {label_job[1]["state"] for i, label_job in shapes.items() if i in ids_of(shapes, True)}
    assert states == {"quarantined"}
    assert {shapes[i][1]["state"] for i in ids_of(shapes, False)} == {"done"}


def test_held_images_are_not_searched_listed_or_served(
    stack: Stack, search: httpx.Client, shapes: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    held = set(ids_of(shapes, True))
    assert held.isdisjoint(found_by_search(search, "a red circle"))
    listing = search.get("/api/v1/image", params={"limit": 100}).json()
    assert {image["id"] for image in listing["results"]} == set(ids_of(shapes, False))
    assert listing["total"] == len(OTHERS)
    with httpx.Client(base_url=stack.urls["cdnapi"]) as cdn:
        for image_id in held:
            assert search.get(f"/api/v1/image/{image_id}").status_code == 404
            assert cdn.get(f"/images/{image_id}").status_code == 404
            assert cdn.get(f"/images/{image_id}/thumb").status_code == 404


def test_the_admin_lists_the_held_images_with_the_rules_scores(
    ingest: httpx.Client, shapes: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    body = ingest.get("/api/v1/admin/quarantine").json()
    assert body["total"] == len(RED_CIRCLES)
    assert {image["image_id"] for image in body["images"]} == set(ids_of(shapes, True))
    for image in body["images"]:
        rule = image["decisions"][0]
        assert (rule["check"], rule["outcome"]) == ("red-circles", "quarantine")
        assert rule["details"]["scores"]["a red circle"] >= 0.8
        assert rule["reason"].startswith("matches 'a red circle'")


def test_a_released_image_becomes_searchable_and_served(
    stack: Stack,
    ingest: httpx.Client,
    search: httpx.Client,
    shapes: dict[str, tuple[str, dict[str, Any]]],
) -> None:
    image_id = ids_of(shapes, True)[0]
    response = ingest.post(f"/api/v1/admin/quarantine/{image_id}/release")
    assert response.status_code == 202, response.text
    job = wait_for_job(ingest, stack.urls["ingestapi"], response.json()["job_id"])
    assert job["state"] == "done", job
    wait_until(  # the index makes a new row searchable within a moment, not at once
        lambda: found_by_search(search, "a red circle")[0] == image_id,
        timeout=10,
        what="the released red circle to lead the search",
    )
    assert image_id not in held_ids(ingest)
    with httpx.Client(base_url=stack.urls["cdnapi"]) as cdn:
        assert cdn.get(f"/images/{image_id}").status_code == 200
    assert not list(stack.objects().keys(f"quarantine/{image_id}"))


def test_a_deleted_held_image_leaves_nothing(
    stack: Stack, ingest: httpx.Client, shapes: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    image_id = ids_of(shapes, True)[1]
    assert ingest.delete(f"/api/v1/admin/quarantine/{image_id}").status_code == 204
    assert image_id not in held_ids(ingest)
    assert not list(stack.objects().keys(f"quarantine/{image_id}"))


def test_a_rejected_image_fails_with_the_reason_and_keeps_nothing(
    stack: Stack, ingest: httpx.Client, search: httpx.Client
) -> None:
    data = encode(samples(72, seed=11)[8][1], "GIF")
    image_id = image_id_of(data)
    job = upload(stack, ingest, {"circle.gif": data})[image_id]
    assert job["state"] == "failed"
    assert (
        job["error"] == "rejected by no-gif: gif images are not accepted here (allowed: png, jpeg)"
    )
    objects = stack.objects()
    wait_until(
        lambda: not any(image_id in key for key in objects.keys("")),
        timeout=10,
        what="the rejected image's staged bytes to go",
    )
    catalog = stack.catalog()
    try:
        for view in (ImageCatalog(catalog), ImageCatalog(catalog, QUARANTINED)):
            assert view.existing_ids([image_id]) == set()
    finally:
        catalog.close()
    assert stack.vectors().existing_ids([image_id]) == set()
    assert search.get(f"/api/v1/image/{image_id}").status_code == 404


def test_the_location_policy_coarsens_the_stored_position(
    stack: Stack, ingest: httpx.Client, search: httpx.Client
) -> None:
    exif = Image.open(io.BytesIO(jpeg_with_exif())).getexif()  # at -33.86, 151.21
    data = encode(samples(72, seed=11)[4][1], "JPEG", exif=exif, quality=90)
    image_id = image_id_of(data)
    assert upload(stack, ingest, {"located.jpg": data})[image_id]["state"] == "done"
    meta = search.get(f"/api/v1/image/{image_id}").json()["meta"]
    assert meta["exif"]["gps"] == {"latitude": -33.86, "longitude": 151.21}
    assert meta["exif"]["make"] == "Canon"


def test_a_worker_configured_with_an_unknown_check_refuses_to_start(stack: Stack) -> None:
    unknown = [{"name": "nsfw", "kind": "nsfw_detector"}]
    env = {**os.environ, **stack.env(COMPLIANCE__CHECKS=json.dumps(unknown), WORKER__HTTP_PORT="0")}
    ended = subprocess.run(
        [sys.executable, "-m", "ingestworker"], env=env, capture_output=True, text=True, timeout=180
    )
    assert ended.returncode == 2
    assert "compliance check 'nsfw' (kind 'nsfw_detector'): no such kind" in ended.stderr
