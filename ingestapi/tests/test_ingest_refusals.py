"""What ingestapi refuses, with which problem, and that a refusal leaves nothing behind.

The ingestapi here runs alone, with limits of its own: small enough that a test can tell them from
the defaults and from Pillow's own pixel guard (~179 MP). Nothing consumes its queue, so what a
request enqueued stays there to be counted; "nothing stored" compares the whole bucket, every job
record and the queue length before and after (``tests.support.stored``).
"""

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.domain import image_id_of, staging_key
from tests.support.images import encode, picture, png_bomb_header, truncated
from tests.support.stack import Stack
from tests.support.stored import stored

MAX_PIXELS = 1_000_000
MAX_BYTES = 2_000_000


@pytest.fixture(scope="module")
def intake_stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("ingest-intake")
    stack.start_ingestapi(LIMITS__MAX_PIXELS=str(MAX_PIXELS), LIMITS__MAX_BYTES=str(MAX_BYTES))
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def intake(intake_stack: Stack) -> Iterator[httpx.Client]:
    with intake_stack.client("ingestapi", timeout=60) as client:
        yield client


def _upload(client: httpx.Client, *files: tuple[str, bytes]) -> httpx.Response:
    return client.post("/api/v1/ingest", files=[("files", (name, data)) for name, data in files])


def _png(width: int, height: int) -> bytes:
    return encode(picture(width, height), "PNG")


BAD_INPUTS = {  # file name, bytes, status, problem code
    "text-renamed-png": ("notes.png", b"not an image\n" * 50, 415, "unsupported-media-type"),
    "truncated-png": ("cut.png", truncated(_png(300, 200)), 422, "corrupt-image"),
    "empty-file": ("empty.jpg", b"", 422, "empty-file"),
    "pixel-bomb-header": ("bomb.png", png_bomb_header(60000, 60000), 422, "image-too-large"),
    # A real picture far under Pillow's guard: only the configured cap can refuse it.
    "one-column-over-pixel-cap": (
        "wide.png",
        _png(MAX_PIXELS // 1000 + 1, 1000),
        422,
        "image-too-large",
    ),
    "one-byte-over-byte-cap": (
        "huge.jpg",
        b"\xff\xd8\xff" + os.urandom(MAX_BYTES - 2),
        413,
        "file-too-large",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_its_problem_and_nothing_is_stored(
    intake: httpx.Client, intake_stack: Stack, case: str
) -> None:
    filename, data, status, code = BAD_INPUTS[case]
    before = stored(intake_stack)
    response = _upload(intake, (filename, data))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:imagesearch:problem:{code}"
    assert body["status"] == status and body["title"] and body["detail"]
    [error] = body["errors"]
    assert (error["filename"], error["type"]) == (filename, body["type"])
    assert stored(intake_stack) == before


def test_image_exactly_at_the_pixel_cap_is_staged_and_queued(
    intake: httpx.Client, intake_stack: Stack
) -> None:
    """The other side of the cap, and proof that ``stored`` sees what an upload leaves."""
    data = _png(MAX_PIXELS // 1000, 1000)
    before = stored(intake_stack)
    response = _upload(intake, ("square.png", data))
    assert response.status_code == 202, response.text
    [job] = response.json()["jobs"]
    assert (job["state"], job["image_id"]) == ("queued", image_id_of(data))
    after = stored(intake_stack)
    assert after.objects - before.objects == {staging_key(image_id_of(data))}
    assert after.jobs - before.jobs == {job["job_id"]}
    assert after.queued == before.queued + 1


def test_mixed_batch_answers_202_and_only_the_good_file_is_staged_and_queued(
    intake: httpx.Client, intake_stack: Stack
) -> None:
    good = encode(picture(33, 33, (120, 0, 120)), "PNG")
    before = stored(intake_stack)
    response = _upload(intake, ("good.png", good), ("bad.png", b"not an image at all"))
    assert response.status_code == 202
    queued, rejected = response.json()["jobs"]
    assert queued["state"] == "queued" and queued["problem"] is None
    assert rejected["state"] == "rejected" and rejected["job_id"] is None
    assert rejected["problem"]["type"] == "urn:imagesearch:problem:unsupported-media-type"
    after = stored(intake_stack)
    assert after.objects - before.objects == {staging_key(image_id_of(good))}
    assert after.jobs - before.jobs == {queued["job_id"]}
    assert after.queued == before.queued + 1
