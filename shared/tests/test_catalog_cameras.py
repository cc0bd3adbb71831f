"""Cameras and captures in the catalog, on SQLite and PostgreSQL: names are unique, a capture and
its job move together, a final capture never changes, cancel stops a queued capture at once and
flags a running one, counters add up under concurrent writers, a deleted camera leaves its
captures."""

from __future__ import annotations

import threading
import uuid

import pytest

from shared.cameras import (
    BUILT_IN_DEFAULTS,
    CameraNotFound,
    Capture,
    CaptureNotFound,
    CaptureParams,
    CaptureState,
)
from shared.catalog.cameras import CameraCatalog, CaptureCatalog
from shared.catalog.db import Catalog
from shared.catalog.jobs import JobStore
from shared.domain import JobState
from shared.errors import Conflict, JobNotFound

URL = "rtsp://user:s3cret@127.0.0.1:8554/cam"
PARAMS = CaptureParams.from_dict(BUILT_IN_DEFAULTS)


@pytest.fixture
def cameras(catalog: Catalog) -> CameraCatalog:
    return CameraCatalog(catalog)


@pytest.fixture
def captures(catalog: Catalog) -> CaptureCatalog:
    return CaptureCatalog(catalog)


def _queued(captures: CaptureCatalog, camera_id: str | None = None) -> str:
    capture_id = str(uuid.uuid4())
    captures.create(Capture(capture_id, camera_id, URL, PARAMS, created_by="ada"))
    return capture_id


def test_a_camera_is_kept_listed_by_name_changed_and_deleted(cameras: CameraCatalog) -> None:
    door = cameras.create("door", URL, {"mode": "interval"}, "ada")
    yard = cameras.create("yard", "rtsp://10.0.0.9/yard", {}, "ada")
    assert [camera.name for camera in cameras.list()] == ["door", "yard"]
    assert cameras.get(door.camera_id) == door
    changed = cameras.update(door.camera_id, name="front door", defaults={"max_frames": 3})
    assert (changed.name, changed.rtsp_url, changed.defaults) == (
        "front door",
        URL,
        {"max_frames": 3},
    )
    cameras.delete(yard.camera_id)
    with pytest.raises(CameraNotFound):
        cameras.get(yard.camera_id)
    with pytest.raises(CameraNotFound):
        cameras.delete(yard.camera_id)


def test_a_camera_name_is_taken_once(cameras: CameraCatalog) -> None:
    cameras.create("door", URL, {}, "ada")
    yard = cameras.create("yard", URL, {}, "ada")
    with pytest.raises(Conflict, match="door"):
        cameras.create("door", URL, {}, "bob")
    with pytest.raises(Conflict):
        cameras.update(yard.camera_id, name="door")
    assert cameras.get(yard.camera_id).name == "yard"


def test_a_capture_is_created_with_its_queued_job(
    catalog: Catalog, captures: CaptureCatalog, cameras: CameraCatalog
) -> None:
    camera = cameras.create("door", URL, {}, "ada")
    capture_id = _queued(captures, camera.camera_id)
    capture = captures.get(capture_id)
    assert (capture.state, capture.camera_id, capture.params, capture.rtsp_url) == (
        CaptureState.QUEUED,
        camera.camera_id,
        PARAMS,
        URL,
    )
    job = JobStore(catalog).get(capture_id)
    assert (job.kind, job.state, job.params["camera_id"]) == (
        "capture",
        JobState.QUEUED,
        camera.camera_id,
    )


def test_the_job_follows_the_capture_to_done(catalog: Catalog, captures: CaptureCatalog) -> None:
    capture_id = _queued(captures)
    jobs = JobStore(catalog)
    assert captures.set_state(capture_id, CaptureState.CONNECTING)
    assert jobs.get(capture_id).state is JobState.PROCESSING
    assert captures.set_state(capture_id, CaptureState.CAPTURING)
    captures.finish(capture_id, CaptureState.DONE)
    capture = captures.get(capture_id)
    assert capture.state is CaptureState.DONE and capture.finished_at is not None
    assert jobs.get(capture_id).state is JobState.DONE
    assert not captures.set_state(capture_id, CaptureState.CAPTURING)
    captures.finish(capture_id, CaptureState.FAILED, "late")
    assert captures.get(capture_id).state is CaptureState.DONE


def test_a_failed_capture_and_its_job_carry_the_reason(
    catalog: Catalog, captures: CaptureCatalog
) -> None:
    capture_id = _queued(captures)
    captures.finish(capture_id, CaptureState.FAILED, "could not connect to 10.0.0.9")
    assert captures.get(capture_id).error == "could not connect to 10.0.0.9"
    job = JobStore(catalog).get(capture_id)
    assert (job.state, job.error) == (JobState.FAILED, "could not connect to 10.0.0.9")


def test_cancelling_a_queued_capture_ends_it_at_once(
    catalog: Catalog, captures: CaptureCatalog
) -> None:
    capture_id = _queued(captures)
    cancelled = captures.request_cancel(capture_id)
    assert cancelled.state is CaptureState.CANCELLED and cancelled.finished_at is not None
    job = JobStore(catalog).get(capture_id)
    assert (job.state, job.error) == (JobState.FAILED, "cancelled")
    assert not captures.set_state(capture_id, CaptureState.CONNECTING)


def test_cancelling_a_running_capture_flags_it_for_its_worker(captures: CaptureCatalog) -> None:
    capture_id = _queued(captures)
    captures.set_state(capture_id, CaptureState.CAPTURING)
    flagged = captures.request_cancel(capture_id)
    assert (flagged.state, flagged.cancel_requested) == (CaptureState.CAPTURING, True)
    assert captures.cancel_requested(capture_id)
    assert not captures.set_state(capture_id, CaptureState.CONNECTING)  # the worker stops
    captures.finish(capture_id, CaptureState.CANCELLED)
    assert captures.get(capture_id).state is CaptureState.CANCELLED


def test_cancelling_a_final_capture_changes_nothing(captures: CaptureCatalog) -> None:
    capture_id = _queued(captures)
    captures.finish(capture_id, CaptureState.DONE)
    after = captures.request_cancel(capture_id)
    assert (after.state, after.cancel_requested) == (CaptureState.DONE, False)


def test_counters_add_up_under_concurrent_writers(captures: CaptureCatalog) -> None:
    capture_id = _queued(captures)

    def count() -> None:
        for _ in range(5):
            captures.count(capture_id, kept=1, skipped=2)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    captures.count(capture_id, reconnects=1)
    capture = captures.get(capture_id)
    assert (capture.frames_kept, capture.frames_skipped, capture.reconnects) == (20, 40, 1)


def test_a_deleted_camera_leaves_its_captures_with_their_url(
    captures: CaptureCatalog, cameras: CameraCatalog
) -> None:
    camera = cameras.create("door", URL, {}, "ada")
    capture_id = _queued(captures, camera.camera_id)
    captures.set_state(capture_id, CaptureState.CAPTURING)
    cameras.delete(camera.camera_id)
    capture = captures.get(capture_id)
    assert (capture.camera_id, capture.rtsp_url, capture.state) == (
        None,
        URL,
        CaptureState.CAPTURING,
    )


def test_a_forgotten_capture_leaves_no_row_and_no_job(
    catalog: Catalog, captures: CaptureCatalog
) -> None:
    capture_id = _queued(captures)
    captures.forget(capture_id)
    with pytest.raises(CaptureNotFound):
        captures.get(capture_id)
    with pytest.raises(JobNotFound):
        JobStore(catalog).get(capture_id)


def test_an_unknown_capture_is_not_found(captures: CaptureCatalog) -> None:
    unknown = str(uuid.uuid4())
    for call in (captures.get, captures.request_cancel, captures.cancel_requested):
        with pytest.raises(CaptureNotFound):
            call(unknown)
    with pytest.raises(CaptureNotFound):
        captures.set_state(unknown, CaptureState.CONNECTING)


def test_the_url_stays_out_of_reprs(cameras: CameraCatalog, captures: CaptureCatalog) -> None:
    camera = cameras.create("door", URL, {}, "ada")
    capture = captures.get(_queued(captures, camera.camera_id))
    assert "s3cret" not in repr(camera) and "s3cret" not in repr(capture)
    assert camera.masked_url == capture.masked_url == "rtsp://user:***@127.0.0.1:8554/cam"
