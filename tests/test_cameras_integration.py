"""Camera capture against a real RTSP server (GStreamer, on loopback) and the real system:
ingestapi accepts a capture, the worker streams it with PyAV, frames go through the normal ingest
path, searchapi finds them by camera.

What an outsider sees: one frame, or five at an interval, each an image with ``source=camera``,
its camera and capture time; a camera that dies mid-capture and comes back is reconnected and the
capture still ends ``done``; a port nobody listens on ends ``failed`` with a reason that never
holds the URL's password; a scene that does not change is kept once with ``min_change``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.processes import ROOT, free_port, wait_until
from tests.support.rtsp import RtspServer
from tests.support.stack import Stack

FINAL = ("done", "failed", "cancelled")
# Quick reconnects so a dead port fails in seconds, and enough of them (12 draws of up to 1 s)
# that a server restarting (~1 s) is reached again.
WORKER_ENV = {
    "CAMERAS__RECONNECT_INITIAL_S": "0.25",
    "CAMERAS__RECONNECT_MAX_S": "1",
    "CAMERAS__MAX_RECONNECTS": "12",
    "CAMERAS__READ_TIMEOUT_S": "3",
    "CAMERAS__CONNECT_TIMEOUT_S": "3",
}


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("cameras")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker(**WORKER_ENV)
        stack.start_searchapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def rtsp() -> Iterator[RtspServer]:
    server = RtspServer(ROOT / "artifacts" / "logs").start()
    yield server
    server.stop()


def add_camera(stack: Stack, url: str) -> str:
    body = {"name": f"cam-{uuid.uuid4().hex[:8]}", "rtsp_url": url}
    with stack.client("ingestapi") as ingest:
        response = ingest.post("/api/v1/cameras", json=body)
    assert response.status_code == 201, response.text
    assert "***" in response.json()["rtsp_url"]
    camera_id: str = response.json()["camera_id"]
    return camera_id


def start_capture(stack: Stack, **body: Any) -> str:
    with stack.client("ingestapi") as ingest:
        response = ingest.post("/api/v1/ingest/rtsp", json=body)
    assert response.status_code == 202, response.text
    capture_id: str = response.json()["capture_id"]
    return capture_id


def capture_of(stack: Stack, capture_id: str) -> dict[str, Any]:
    with stack.client("ingestapi") as ingest:
        body: dict[str, Any] = ingest.get(f"/api/v1/ingest/captures/{capture_id}").json()
    return body


def finished(stack: Stack, capture_id: str, timeout: float = 60) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        body = capture_of(stack, capture_id)
        return body if body["state"] in FINAL else None

    return wait_until(final, timeout, f"capture {capture_id} to end", interval=0.2)


def images_of(stack: Stack, camera_id: str, count: int) -> list[dict[str, Any]]:
    """The camera's images once ``count`` of them are indexed (their ingest jobs trail)."""

    def listed() -> list[dict[str, Any]] | None:
        with stack.client("searchapi") as search:
            body = search.get("/api/v1/image", params={"camera_id": camera_id}).json()
        results: list[dict[str, Any]] = body["results"]
        return results if len(results) >= count else None

    return wait_until(listed, 60, f"{count} images of camera {camera_id}", interval=0.3)


def test_a_single_frame_becomes_a_searchable_camera_image(stack: Stack, rtsp: RtspServer) -> None:
    camera_id = add_camera(stack, rtsp.url("cam"))
    capture_id = start_capture(stack, camera_id=camera_id, mode="single_frame", tags=["Lobby"])
    capture = finished(stack, capture_id)
    assert (capture["state"], capture["frames_kept"], capture["error"]) == ("done", 1, None)
    [image] = images_of(stack, camera_id, 1)
    assert (image["source"], image["camera_id"], image["tags"]) == ("camera", camera_id, ["lobby"])
    assert image["format"] == "JPEG" and image["captured_at"] <= capture["finished_at"]
    with stack.client("searchapi") as search:

        def found(camera: str) -> list[str]:
            params = {"text": "a ball", "camera_id": camera}
            results = search.get("/api/v1/image/search", params=params).json()["results"]
            return [hit["id"] for hit in results]

        # Searches read Bounded: a new row is seen within about a second of its job's `done`.
        hits = wait_until(lambda: found(camera_id), 30, "the frame to be searchable")
        others = found(str(uuid.uuid4()))
    assert hits == [image["id"]]
    assert others == []


def test_an_interval_capture_keeps_five_frames(stack: Stack, rtsp: RtspServer) -> None:
    camera_id = add_camera(stack, rtsp.url("cam"))
    capture_id = start_capture(
        stack, camera_id=camera_id, mode="interval", interval_s=0.5, max_frames=5
    )
    capture = finished(stack, capture_id)
    assert (capture["state"], capture["frames_kept"], capture["frames_skipped"]) == ("done", 5, 0)
    images = images_of(stack, camera_id, 5)
    assert len({image["id"] for image in images}) == 5
    taken = sorted(image["captured_at"] for image in images)
    assert all(later - earlier >= 450 for earlier, later in zip(taken, taken[1:], strict=False))


def test_a_camera_that_dies_mid_capture_is_reconnected_and_the_capture_ends_done(
    stack: Stack, rtsp: RtspServer
) -> None:
    camera_id = add_camera(stack, rtsp.url("cam"))
    capture_id = start_capture(
        stack, camera_id=camera_id, mode="interval", interval_s=0.5, max_frames=6, duration_s=60
    )
    wait_until(lambda: capture_of(stack, capture_id)["frames_kept"] >= 2, 30, "two frames")
    rtsp.restart()  # SIGKILL, then the same port again
    capture = finished(stack, capture_id)
    assert (capture["state"], capture["frames_kept"]) == ("done", 6), capture
    assert capture["reconnects"] >= 1
    assert len(images_of(stack, camera_id, 6)) == 6


def test_an_unreachable_camera_fails_with_a_reason_that_keeps_its_secret(stack: Stack) -> None:
    closed = f"rtsp://camuser:Very-Secret-9@127.0.0.1:{free_port()}/cam"
    capture_id = start_capture(stack, rtsp_url=closed, mode="single_frame")
    capture = finished(stack, capture_id, timeout=90)
    assert capture["state"] == "failed"
    assert "Connection refused" in capture["error"]
    assert capture["reconnects"] == 12
    assert "Very-Secret-9" not in str(capture)
    assert capture["rtsp_url"].startswith("rtsp://camuser:***@")
    log = stack.processes["worker"].log_path.read_text()
    assert "Very-Secret-9" not in log


def test_a_static_scene_with_min_change_is_kept_once(stack: Stack, rtsp: RtspServer) -> None:
    camera_id = add_camera(stack, rtsp.url("static"))
    capture_id = start_capture(
        stack,
        camera_id=camera_id,
        mode="interval",
        interval_s=0.5,
        max_frames=5,
        duration_s=5,
        min_change=0.05,
    )
    capture = finished(stack, capture_id)
    assert (capture["state"], capture["frames_kept"]) == ("done", 1), capture
    assert capture["frames_skipped"] >= 2  # due every 0.5 s for what is left of 5 s
    assert len(images_of(stack, camera_id, 1)) == 1
