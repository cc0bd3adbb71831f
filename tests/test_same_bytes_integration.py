"""The same bytes at once, on the real parts: ingestapi → worker → MinIO, Milvus and the catalog.

Ten clients upload one new picture at the same moment: every job ends `done` or `duplicate`
(none `failed` for want of the staging object they share), and the image has one index row,
one catalog row and one original, served with its real type; nothing is left staged. Deleting
an image while a job of it is queued is refused (409) and deletes nothing: the job indexes the
image as if no delete had come, and a delete once it ended goes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.domain import image_id_of, original_key
from tests.support.concurrency import at_once
from tests.support.images import encode, picture
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

UPLOADS = 10


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("same-bytes")
    stack.start_ingestapi()
    yield stack
    stack.stop_all()


@pytest.fixture()
def client(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("ingestapi", timeout=60) as client:
        yield client


def _upload(stack: Stack, data: bytes, name: str) -> dict[str, Any]:
    with stack.client("ingestapi", timeout=60) as client:
        response = client.post("/api/v1/ingest", files=[("files", (name, data, "image/jpeg"))])
    assert response.status_code == 202, response.text
    [job] = response.json()["jobs"]
    return dict(job)


def test_ten_uploads_of_one_new_picture_at_once_end_well_with_one_of_everything(
    stack: Stack, client: httpx.Client
) -> None:
    stack.start_worker()
    data = encode(picture(640, 480, (30, 160, 90)), "JPEG", quality=90)
    image_id = image_id_of(data)

    accepted = at_once(UPLOADS, lambda i: _upload(stack, data, f"same-{i}.jpg"))

    assert len(accepted) == UPLOADS
    assert all(isinstance(job, dict) for job in accepted.values()), accepted
    ended = [
        wait_for_job(client, stack.urls["ingestapi"], job["job_id"])["state"]
        for job in accepted.values()
    ]
    assert set(ended) <= {"done", "duplicate"}, ended
    assert "done" in ended
    assert len(stack.vectors().get([image_id], strong=True)) == 1
    assert stack.images().count() == 1
    assert stack.objects().stat(original_key(image_id)).content_type == "image/jpeg"
    assert list(stack.objects().keys("staging/")) == []
    stack.stop("worker")


def test_a_delete_while_the_images_job_is_queued_is_refused_and_deletes_nothing(
    stack: Stack, client: httpx.Client
) -> None:
    stack.stop("worker")  # none runs: the job stays queued
    data = encode(picture(320, 240, (200, 60, 160)), "JPEG", quality=90)
    image_id = image_id_of(data)
    job = _upload(stack, data, "busy.jpg")

    refused = client.delete(f"/api/v1/ingest/images/{image_id}")

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:imagesearch:problem:conflict"
    stack.start_worker()
    assert wait_for_job(client, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    wait_until(
        lambda: stack.images().existing_ids([image_id]) == {image_id},
        30,
        "the image to be listed",
    )
    assert len(stack.vectors().get([image_id], strong=True)) == 1
    assert stack.objects().exists(original_key(image_id))

    assert client.delete(f"/api/v1/ingest/images/{image_id}").status_code == 204
    assert stack.images().existing_ids([image_id]) == set()
    assert stack.vectors().get([image_id], strong=True) == []
    stack.stop("worker")
