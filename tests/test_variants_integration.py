"""Variants and links on real parts, reads private: ingestapi queues a variant, the worker renders
it, searchapi lists it and hands out links, cdnapi serves the bytes (and redirects to MinIO).

What an outsider sees: a 3000x2000 JPEG asked for as 800x600 ``cover`` grey WebP is served as
exactly that, once (the same request again is the same variant, with no second job); refused
requests leave nothing behind; unsigned byte URLs are refused, a link works until it expires,
then never; ``redirect=storage`` leads to the exact bytes; a deleted image takes its variants
with it, rows, objects and what cdnapi served.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops
from sqlalchemy import func, select

from shared.catalog.models import JobRow, VariantRow
from shared.domain import image_id_of, variants_prefix
from shared.jobs import VARIANT_JOB_KIND
from tests.support.images import encode
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

COVER = {"width": 800, "height": 600, "fit": "cover", "format": "webp", "grayscale": True}


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("variants", public_read=False)
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
        stack.start_searchapi()
        stack.start_cdnapi()
    yield stack
    stack.stop_all()


def photo() -> bytes:
    """A colourful 3000x2000 JPEG (smooth, so it stays a few hundred KB)."""
    red = Image.linear_gradient("L").resize((3000, 2000))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((3000, 2000))
    blue = Image.radial_gradient("L").resize((3000, 2000))
    return encode(Image.merge("RGB", (red, green, blue)), "JPEG", quality=90)


@pytest.fixture(scope="module")
def image(stack: Stack) -> tuple[str, bytes]:
    data = photo()
    with stack.client("ingestapi") as ingest:
        [job] = ingest.post("/api/v1/ingest", files=[("files", ("photo.jpg", data))]).json()["jobs"]
        assert wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    return image_id_of(data), data


def ask(stack: Stack, image_id: str, params: Any) -> httpx.Response:
    with stack.client("ingestapi") as ingest:
        return ingest.post(f"/api/v1/ingest/images/{image_id}/variants", json=params)


def listed(stack: Stack, image_id: str) -> list[dict[str, Any]]:
    with stack.client("searchapi") as search:
        response = search.get(f"/api/v1/image/{image_id}/variants")
        assert response.status_code == 200, response.text
        variants: list[dict[str, Any]] = response.json()["variants"]
        return variants


def link(stack: Stack, image_id: str, **params: Any) -> dict[str, Any]:
    with stack.client("searchapi") as search:
        response = search.get(f"/api/v1/image/{image_id}/link", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def variant_rows_and_jobs(stack: Stack) -> tuple[int, int]:
    catalog = stack.catalog()
    try:
        with catalog.session() as session:
            rows = session.scalar(select(func.count()).select_from(VariantRow))
            jobs = session.scalar(
                select(func.count()).select_from(JobRow).where(JobRow.kind == VARIANT_JOB_KIND)
            )
            return int(rows or 0), int(jobs or 0)
    finally:
        catalog.close()


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:imagesearch:problem:{code}"


@pytest.fixture(scope="module")
def rendered(stack: Stack, image: tuple[str, bytes]) -> dict[str, Any]:
    """The 800x600 cover grey WebP, asked for and rendered."""
    accepted = ask(stack, image[0], COVER)
    assert accepted.status_code == 202, accepted.text

    def done() -> dict[str, Any] | None:
        found = [v for v in listed(stack, image[0]) if v["state"] in ("done", "failed")]
        return found[0] if found else None

    variant = wait_until(done, 120, "the variant to be rendered", interval=0.3)
    assert variant["state"] == "done", variant["error"]
    assert variant["variant_id"] == accepted.json()["variant_id"]
    return variant


def test_a_cover_grey_webp_variant_is_served_as_exactly_that(
    stack: Stack, rendered: dict[str, Any]
) -> None:
    with stack.client("cdnapi", key=None) as cdn:
        response = cdn.get(rendered["url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp" == rendered["mime"]
    served = Image.open(io.BytesIO(response.content))
    assert (served.format, served.size) == ("WEBP", (800, 600))
    red, green, blue = served.convert("RGB").split()  # grey: the channels agree (lossy: ±3)
    assert ImageChops.difference(red, green).getextrema()[1] <= 3
    assert ImageChops.difference(red, blue).getextrema()[1] <= 3
    assert (rendered["width"], rendered["height"], rendered["bytes"]) == (
        800,
        600,
        len(response.content),
    )


def test_the_same_request_again_is_the_same_variant_with_no_second_job(
    stack: Stack, image: tuple[str, bytes], rendered: dict[str, Any]
) -> None:
    before = variant_rows_and_jobs(stack)
    again = ask(stack, image[0], dict(reversed(COVER.items())))
    assert again.status_code == 200, again.text
    assert (again.json()["variant_id"], again.json()["state"]) == (rendered["variant_id"], "done")
    assert variant_rows_and_jobs(stack) == before == (1, 1)


@pytest.mark.parametrize(
    ("params", "unknown_image", "status", "code"),
    [
        ({**COVER, "fit": "squash"}, False, 422, "validation"),
        ({"width": 800, "fit": "cover"}, False, 422, "validation"),
        (COVER, True, 404, "image-not-found"),
        ({"width": 8192, "height": 8192, "fit": "fill"}, False, 400, "invalid-input"),
    ],
    ids=["unknown-fit", "cover-without-height", "unknown-image", "over-the-pixel-cap"],
)
def test_a_refused_variant_answers_a_problem_and_queues_nothing(
    stack: Stack,
    image: tuple[str, bytes],
    rendered: dict[str, Any],
    params: dict[str, Any],
    unknown_image: bool,
    status: int,
    code: str,
) -> None:
    before = variant_rows_and_jobs(stack)
    image_id = image_id_of(b"never ingested") if unknown_image else image[0]
    problem(ask(stack, image_id, params), status, code)
    assert variant_rows_and_jobs(stack) == before


def test_private_bytes_need_a_link_that_works_until_it_expires(
    stack: Stack, image: tuple[str, bytes]
) -> None:
    image_id = image[0]
    with stack.client("cdnapi", key=None) as cdn:
        problem(cdn.get(f"/images/{image_id}"), 403, "bad-signature")
        lasting = link(stack, image_id, ttl=60)["url"]
        assert cdn.get(lasting).content == image[1]
        tampered = lasting[:-1] + ("A" if lasting[-1] != "A" else "B")
        problem(cdn.get(tampered), 403, "bad-signature")
        short = link(stack, image_id, ttl=2)
        sent_at = time.time()
        first = cdn.get(short["url"])
        if sent_at < short["expires_at"] - 1:  # always, unless this machine stalled a second
            assert first.status_code == 200
        wait_until(lambda: cdn.get(short["url"]).status_code == 403, 10, "the link to expire")
        assert time.time() >= short["expires_at"]
        problem(cdn.get(short["url"]), 403, "link-expired")


def test_a_link_redirected_to_storage_leads_to_the_exact_bytes(
    stack: Stack, image: tuple[str, bytes]
) -> None:
    url = link(stack, image[0], ttl=60, redirect="storage")["url"]
    with stack.client("cdnapi", key=None) as cdn:
        redirect = cdn.get(url)
    assert redirect.status_code == 307, redirect.text
    with httpx.Client(timeout=30) as outside:  # no credential, straight to MinIO
        stored = outside.get(redirect.headers["location"])
    assert stored.status_code == 200 and stored.content == image[1]


def test_deleting_the_image_removes_its_variants_and_cdnapi_stops_serving_them(
    stack: Stack, image: tuple[str, bytes], rendered: dict[str, Any]
) -> None:
    image_id = image[0]
    variant_url = link(stack, image_id, variant=rendered["variant_id"], ttl=600)["url"]
    with stack.client("cdnapi", key=None) as cdn:
        assert cdn.get(variant_url).status_code == 200  # now in cdnapi's caches
        with stack.client("ingestapi") as ingest:
            assert ingest.delete(f"/api/v1/ingest/images/{image_id}").status_code == 204
        assert variant_rows_and_jobs(stack)[0] == 0
        assert list(stack.objects().keys(variants_prefix(image_id))) == []
        wait_until(lambda: cdn.get(variant_url).status_code == 404, 5, "cdnapi to forget it")
