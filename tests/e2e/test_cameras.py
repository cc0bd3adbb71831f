"""Cameras on the page, in a real browser against the real stack (tests/e2e/conftest.py): the
Camera filter shows once the library holds camera frames, narrows the library and text search,
lives in the URL, combines with the tag filter; the viewer names a frame's camera and its time.

Frames are seeded without an RTSP server: three pictures go through the ordinary ingest path, then
their catalog and index rows are made camera frames (``source=camera``, ``camera_id``,
``captured_at``) as the capture worker writes them, and the camera's row is added.
"""

from __future__ import annotations

import io
import re
import secrets
import uuid
from dataclasses import dataclass

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import update

from imagesearch_samples.shapes import samples
from shared.catalog.models import CameraRow, ImageRow
from tests.e2e.browser import csrf_headers, screenshot, tile_ids
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

pytestmark = pytest.mark.integration

CAMERA_SEED = 5303
# Indexes of samples() (sample_spec cycles the classes): orange circles and a yellow star, which
# no other test of the package looks for, so none of its rankings change.
ORANGE_CIRCLES, YELLOW_STAR = (20, 44), 15
CAPTURED_AT = 1_796_047_500_000  # 2026-11-30 14:05 UTC


@dataclass(frozen=True)
class Frames:
    camera_id: str
    name: str
    ids: list[str]  # the camera's frames: two orange circles, then a yellow star
    uploaded: str  # an orange circle uploaded, from no camera


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)  # as the worker encodes a kept frame
    return out.getvalue()


def _ingest(stack: Stack, pictures: list[bytes]) -> list[str]:
    """Through ingestapi, as any upload; the ids once every job is done."""
    parts = [("files", (f"{secrets.token_hex(6)}.jpg", data, "image/jpeg")) for data in pictures]
    with stack.client("ingestapi") as client:
        answer = client.post("/api/v1/ingest", files=parts)
        assert answer.status_code == 202, answer.text
        jobs = answer.json()["jobs"]
        for job in jobs:
            assert wait_for_job(client, "", job["job_id"])["state"] == "done", job
    return [job["image_id"] for job in jobs]


def _make_frames(stack: Stack, camera_id: str, name: str, ids: list[str]) -> None:
    """What a capture leaves: the camera's row, and frames' rows in the catalog and the index."""
    frame = {"source": "camera", "camera_id": camera_id, "captured_at": CAPTURED_AT}
    catalog = stack.catalog()
    try:
        with catalog.session() as session:
            session.add(
                CameraRow(
                    id=camera_id,
                    name=name,
                    rtsp_url="rtsp://viewer:s3cret@127.0.0.1:8554/porch",
                    defaults={},
                    created_by="e2e",
                    created_at=CAPTURED_AT,
                    updated_at=CAPTURED_AT,
                )
            )
            session.execute(update(ImageRow).where(ImageRow.id.in_(ids)).values(**frame))
    finally:
        catalog.close()
    vectors = stack.vectors()
    records = vectors.get(ids, with_vectors=True, strong=True)
    assert len(records) == len(ids)
    for record in records:
        record.source, record.camera_id, record.captured_at = "camera", camera_id, CAPTURED_AT
    vectors.upsert(records)


@pytest.fixture(scope="module")
def frames(stack: Stack) -> Frames:
    made = [image for _, image in samples(max(ORANGE_CIRCLES) + 1, CAMERA_SEED)]
    chosen = [_jpeg(made[i]) for i in (*ORANGE_CIRCLES, YELLOW_STAR)]
    uploaded = _jpeg(samples(ORANGE_CIRCLES[0] + 1, CAMERA_SEED + 1)[-1][1])  # another one
    *ids, uploaded_id = _ingest(stack, [*chosen, uploaded])
    camera = Frames(str(uuid.uuid4()), f"Porch {secrets.token_hex(2)}", ids, uploaded_id)
    _make_frames(stack, camera.camera_id, camera.name, camera.ids)
    return camera


def open_filters(page: Page) -> None:
    page.get_by_test_id("filters-toggle").click()
    expect(page.get_by_test_id("filters-panel")).to_be_visible()


def test_the_camera_filter_is_hidden_while_no_image_comes_from_a_camera(page: Page) -> None:
    page.goto("/?q=a+orange+circle")
    open_filters(page)
    expect(page.get_by_test_id("filter-min-width")).to_be_visible()  # the panel has rendered
    expect(page.get_by_test_id("filter-camera-group")).to_be_hidden()


def test_the_camera_filter_narrows_search_and_library_and_stays_in_the_url(
    page: Page, frames: Frames
) -> None:
    search = f"/api/v1/image/search?text=a+orange+circle&camera_id={frames.camera_id}"
    wait_until(lambda: len(page.request.get(search).json()["results"]) == 3, 10, "frames indexed")
    page.goto("/?q=a+orange+circle")
    tiles = page.get_by_test_id("result-tile")
    expect(page.locator(f'[data-testid=result-tile][data-id="{frames.uploaded}"]')).to_be_attached()
    open_filters(page)
    camera = page.get_by_test_id("filter-camera")
    expect(page.get_by_test_id("filter-camera-group")).to_be_visible()
    expect(camera.locator("option", has_text=f"{frames.name} (3)")).to_be_attached()
    camera.select_option(frames.camera_id)
    expect(page).to_have_url(re.compile(rf"/\?q=a\+orange\+circle&camera={frames.camera_id}$"))
    expect(tiles).to_have_count(3)
    assert tile_ids(page)[2] == frames.ids[2]  # the circles first, the star after
    assert sorted(tile_ids(page)[:2]) == sorted(frames.ids[:2])
    expect(page.get_by_test_id("filters-count")).to_have_text("1")
    screenshot(page, "camera-filter")

    # Without words: the camera's frames in the library, counted and named; shareable.
    page.get_by_test_id("search-input").fill("")
    page.get_by_test_id("search-input").press("Enter")
    expect(page).to_have_url(re.compile(rf"/\?camera={frames.camera_id}$"))
    status = page.get_by_test_id("results-status")
    expect(status).to_have_text(f"3 images from “{frames.name}”")
    page.reload()
    expect(status).to_have_text(f"3 images from “{frames.name}”")
    assert sorted(tile_ids(page)) == sorted(frames.ids)
    open_filters(page)
    expect(page.get_by_test_id("filter-camera")).to_have_value(frames.camera_id)
    page.get_by_test_id("filters-clear").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(status).to_have_text(re.compile(r"^\d+ images$"))


def test_a_frame_names_its_camera_and_time_and_the_tag_filter_narrows_the_camera(
    page: Page, frames: Frames
) -> None:
    tag = f"e2e-{secrets.token_hex(3)}"
    answer = page.request.put(
        f"/api/v1/image/{frames.ids[2]}/tags", data={"tags": [tag]}, headers=csrf_headers(page)
    )
    assert answer.ok, answer.text()
    page.goto(f"/?camera={frames.camera_id}")
    tiles = page.get_by_test_id("result-tile")
    expect(tiles).to_have_count(3)
    page.locator(f'[data-testid=result-tile][data-id="{frames.ids[2]}"]').click()
    meta = page.get_by_test_id("viewer-meta")
    expect(meta).to_contain_text(f"Camera “{frames.name}”")
    expect(meta.locator("dt", has_text="Captured")).to_be_visible()
    screenshot(page, "camera-frame")
    page.get_by_test_id("viewer-tags").get_by_role(
        "button", name=f"Show images tagged {tag}"
    ).click()
    expect(page).to_have_url(re.compile(rf"/\?camera={frames.camera_id}&tag={tag}$"))
    expect(page.get_by_test_id("results-status")).to_have_text(
        f"1 image from “{frames.name}” tagged “{tag}”"
    )
    assert tile_ids(page) == [frames.ids[2]]
