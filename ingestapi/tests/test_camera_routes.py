"""``/api/v1/cameras`` and the capture routes through ``create_app()``: admins keep cameras, editors
capture from them, every refusal is a problem with nothing stored or queued, and the camera's
password appears in no answer and no log line.

The queue is the fake; the catalog the real one on SQLite.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ingestapi.config import IngestSettings
from ingestapi.main import create_app
from shared.cameras import CaptureState
from shared.catalog.cameras import CaptureCatalog
from shared.catalog.models import CaptureRow, JobRow
from shared.config import LogSettings
from shared.identity.roles import Role
from shared.logging import configure_logging
from tests.support.fakes import FakeIngestQueue
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import FailableCatalog

URL = "rtsp://user:s3cret@127.0.0.1:8554/cam"
MASKED = "rtsp://user:***@127.0.0.1:8554/cam"
PROBLEM = "urn:imagesearch:problem:"


class Api:
    """One app, with a key per role: ``api.as_(Role.EDITOR).post(...)``."""

    def __init__(self, client: TestClient, catalog: FailableCatalog) -> None:
        self.client = client
        self.keys = {role: grant(client, catalog, role) for role in Role}

    def as_(self, role: Role) -> TestClient:
        self.client.headers["Authorization"] = f"Bearer {self.keys[role]}"
        return self.client


@pytest.fixture
def api(catalog: FailableCatalog, queue: FakeIngestQueue) -> Iterator[Api]:
    app = create_app(
        IngestSettings(auth=TEST_AUTH, rate_limit=IN_MEMORY_LIMITS, database=catalog.settings)
    )
    app.state.container.catalog.override(providers.Object(catalog))
    app.state.container.queue.override(providers.Object(queue))
    with TestClient(app) as client:
        yield Api(client, catalog)


def _camera(api: Api, name: str = "door", **defaults: Any) -> dict[str, Any]:
    response = api.as_(Role.ADMIN).post(
        "/api/v1/cameras", json={"name": name, "rtsp_url": URL, "defaults": defaults}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _stored(catalog: FailableCatalog) -> tuple[int, int]:
    """How many capture rows and job rows the catalog holds."""
    with catalog.session() as session:
        captures = session.scalar(select(func.count()).select_from(CaptureRow))
        jobs = session.scalar(select(func.count()).select_from(JobRow))
    return captures or 0, jobs or 0


def test_an_admin_keeps_cameras_whose_url_is_answered_masked(api: Api) -> None:
    door = _camera(api, mode="interval", interval_s=2)
    assert set(door) == {"camera_id", "name", "rtsp_url", "defaults", "created_at", "updated_at"}
    assert (door["rtsp_url"], door["defaults"]) == (MASKED, {"mode": "interval", "interval_s": 2})
    admin = api.as_(Role.ADMIN)
    assert admin.get("/api/v1/cameras").json() == {"cameras": [door]}
    path = f"/api/v1/cameras/{door['camera_id']}"
    assert admin.get(path).json() == door
    changed = admin.patch(path, json={"name": "front", "defaults": {"max_frames": 3}}).json()
    assert (changed["name"], changed["defaults"], changed["rtsp_url"]) == (
        "front",
        {"max_frames": 3},
        MASKED,
    )
    assert admin.delete(path).status_code == 204
    missing = admin.get(path)
    assert (missing.status_code, missing.json()["type"]) == (404, PROBLEM + "camera-not-found")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "meta", "rtsp_url": "rtsp://169.254.169.254/x"}, 400, "invalid-input"),
        ({"name": "far", "rtsp_url": "rtsp://8.8.8.8/cam"}, 400, "invalid-input"),
        ({"name": "web", "rtsp_url": "http://127.0.0.1/cam"}, 400, "invalid-input"),
        ({"name": "fast", "rtsp_url": URL, "defaults": {"interval_s": 0.1}}, 400, "invalid-input"),
        ({"name": "", "rtsp_url": URL}, 422, "validation"),
        ({"name": "x", "rtsp_url": URL, "defaults": {"fps": 30}}, 422, "validation"),
    ],
    ids=["metadata", "public", "http", "too-fast", "no-name", "unknown-default"],
)
def test_a_camera_is_refused_outside_the_policy_and_bounds(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    response = api.as_(Role.ADMIN).post("/api/v1/cameras", json=body)
    assert (response.status_code, response.json()["type"]) == (status, PROBLEM + code)
    assert api.as_(Role.ADMIN).get("/api/v1/cameras").json()["cameras"] == []


def test_a_camera_name_is_taken_once(api: Api) -> None:
    _camera(api)
    again = api.as_(Role.ADMIN).post("/api/v1/cameras", json={"name": "door", "rtsp_url": URL})
    assert (again.status_code, again.json()["type"]) == (409, PROBLEM + "conflict")


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_an_admin_may_see_or_keep_cameras(api: Api, role: Role) -> None:
    camera = _camera(api)
    client = api.as_(role)
    assert client.get("/api/v1/cameras").status_code == 403
    assert client.get(f"/api/v1/cameras/{camera['camera_id']}").status_code == 403
    assert client.post("/api/v1/cameras", json={"name": "b", "rtsp_url": URL}).status_code == 403
    assert client.delete(f"/api/v1/cameras/{camera['camera_id']}").status_code == 403


def test_an_editor_captures_from_a_camera_with_its_defaults(
    api: Api, queue: FakeIngestQueue
) -> None:
    camera = _camera(api, mode="interval", interval_s=2, tags=["Door"])
    editor = api.as_(Role.EDITOR)
    accepted = editor.post(
        "/api/v1/ingest/rtsp", json={"camera_id": camera["camera_id"], "max_frames": 5}
    )
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert (body["state"], body["camera_id"]) == ("queued", camera["camera_id"])
    assert queue.captures == [body["capture_id"]]
    status = editor.get(f"/api/v1/ingest/captures/{body['capture_id']}").json()
    assert status["params"] == {
        "mode": "interval",
        "interval_s": 2.0,
        "max_frames": 5,
        "duration_s": 60.0,
        "min_change": 0.0,
        "tags": ["door"],
    }
    assert (status["state"], status["frames_kept"], status["rtsp_url"]) == ("queued", 0, MASKED)
    job = editor.get(f"/api/v1/ingest/jobs/{body['capture_id']}").json()
    assert job["state"] == "queued"


def test_an_admin_may_capture_from_an_ad_hoc_url_an_editor_may_not(
    api: Api, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    body = {"rtsp_url": URL, "mode": "single_frame"}
    refused = api.as_(Role.EDITOR).post("/api/v1/ingest/rtsp", json=body)
    assert (refused.status_code, refused.json()["type"]) == (403, PROBLEM + "forbidden")
    assert queue.captures == [] and _stored(catalog)[0] == 0
    accepted = api.as_(Role.ADMIN).post("/api/v1/ingest/rtsp", json=body)
    assert accepted.status_code == 202 and accepted.json()["camera_id"] is None
    assert queue.captures == [accepted.json()["capture_id"]]


CAMERA = "the camera's id"  # replaced by the id of the camera the test creates


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ({}, 400, "invalid-input", "exactly one of camera_id and rtsp_url"),
        ({"camera_id": CAMERA, "rtsp_url": URL}, 400, "invalid-input", "exactly one"),
        ({"camera_id": str(uuid.uuid4())}, 404, "camera-not-found", ""),
        (
            {"camera_id": CAMERA, "mode": "interval", "interval_s": 0.1},
            400,
            "invalid-input",
            "at least 0.5 s",
        ),
        ({"camera_id": CAMERA, "duration_s": 7200}, 400, "invalid-input", "at most 3600"),
        ({"camera_id": CAMERA, "max_frames": 5000}, 400, "invalid-input", "between 1 and 1000"),
        ({"camera_id": CAMERA, "min_change": 3}, 400, "invalid-input", "between 0 and 2"),
        ({"camera_id": CAMERA, "fps": 30}, 422, "validation", "fps"),
        ({"camera_id": "not-a-uuid"}, 422, "validation", "camera_id"),
    ],
    ids=[
        "neither",
        "both",
        "unknown-camera",
        "too-fast",
        "too-long",
        "too-many",
        "min-change",
        "unknown-field",
        "malformed-id",
    ],
)
def test_a_refused_capture_answers_its_problem_and_stores_nothing(
    api: Api,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    body: dict[str, Any],
    status: int,
    code: str,
    says: str,
) -> None:
    camera_id = _camera(api)["camera_id"]
    sent = {name: camera_id if value == CAMERA else value for name, value in body.items()}
    response = api.as_(Role.ADMIN).post("/api/v1/ingest/rtsp", json=sent)
    assert response.status_code == status, response.text
    assert response.json()["type"] == PROBLEM + code
    assert says in response.json()["detail"]
    assert queue.captures == [] and _stored(catalog) == (0, 0)


def test_a_queue_outage_answers_503_and_leaves_no_capture(
    api: Api, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    camera = _camera(api)
    queue.outage()
    response = api.as_(Role.EDITOR).post(
        "/api/v1/ingest/rtsp", json={"camera_id": camera["camera_id"]}
    )
    assert (response.status_code, response.json()["type"]) == (
        503,
        PROBLEM + "dependency-unavailable",
    )
    assert _stored(catalog) == (0, 0)


def _capture(api: Api, camera_id: str) -> str:
    response = api.as_(Role.EDITOR).post("/api/v1/ingest/rtsp", json={"camera_id": camera_id})
    return str(response.json()["capture_id"])


def test_cancel_ends_a_queued_capture_and_flags_a_running_one(
    api: Api, catalog: FailableCatalog
) -> None:
    camera = _camera(api)
    queued, running = _capture(api, camera["camera_id"]), _capture(api, camera["camera_id"])
    CaptureCatalog(catalog).set_state(running, CaptureState.CAPTURING)
    editor = api.as_(Role.EDITOR)
    cancelled = editor.delete(f"/api/v1/ingest/captures/{queued}")
    assert cancelled.status_code == 202
    assert (cancelled.json()["state"], cancelled.json()["finished_at"] is not None) == (
        "cancelled",
        True,
    )
    flagged = editor.delete(f"/api/v1/ingest/captures/{running}").json()
    assert (flagged["state"], flagged["cancel_requested"]) == ("capturing", True)
    assert editor.get(f"/api/v1/ingest/jobs/{queued}").json()["error"] == "cancelled"


def test_a_viewer_follows_a_capture_but_may_not_cancel_it(api: Api) -> None:
    capture_id = _capture(api, _camera(api)["camera_id"])
    viewer = api.as_(Role.VIEWER)
    assert viewer.get(f"/api/v1/ingest/captures/{capture_id}").status_code == 200
    assert viewer.delete(f"/api/v1/ingest/captures/{capture_id}").status_code == 403
    assert viewer.post("/api/v1/ingest/rtsp", json={"camera_id": "x"}).status_code == 403
    unknown = viewer.get(f"/api/v1/ingest/captures/{uuid.uuid4()}")
    assert (unknown.status_code, unknown.json()["type"]) == (404, PROBLEM + "capture-not-found")


def test_deleting_a_camera_leaves_its_running_capture(api: Api, catalog: FailableCatalog) -> None:
    camera = _camera(api)
    capture_id = _capture(api, camera["camera_id"])
    CaptureCatalog(catalog).set_state(capture_id, CaptureState.CAPTURING)
    assert api.as_(Role.ADMIN).delete(f"/api/v1/cameras/{camera['camera_id']}").status_code == 204
    status = api.as_(Role.VIEWER).get(f"/api/v1/ingest/captures/{capture_id}").json()
    assert (status["camera_id"], status["state"], status["rtsp_url"]) == (
        None,
        "capturing",
        MASKED,
    )


def test_the_camera_password_is_in_no_answer_and_no_log_line(
    api: Api, catalog: FailableCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    # configured in the test itself: pytest swaps the captured stderr after fixtures run
    configure_logging(LogSettings(level="INFO", json_output=True), "ingestapi")
    capsys.readouterr()
    admin = api.as_(Role.ADMIN)
    camera = _camera(api)
    path = f"/api/v1/cameras/{camera['camera_id']}"
    answers = [admin.get("/api/v1/cameras"), admin.get(path), admin.patch(path, json={})]
    answers.append(admin.post("/api/v1/ingest/rtsp", json={"camera_id": camera["camera_id"]}))
    capture_id = answers[-1].json()["capture_id"]
    CaptureCatalog(catalog).finish(capture_id, CaptureState.FAILED, f"{URL} refused s3cret")
    answers.append(admin.get(f"/api/v1/ingest/captures/{capture_id}"))
    answers.append(admin.delete(f"/api/v1/ingest/captures/{capture_id}"))
    refused_url = "rtsp://user:s3cret@169.254.169.254/latest"
    answers.append(admin.post("/api/v1/ingest/rtsp", json={"rtsp_url": refused_url}))
    answers.append(admin.post("/api/v1/cameras", json={"name": "m", "rtsp_url": refused_url}))
    assert [a.status_code for a in answers] == [200, 200, 200, 202, 200, 202, 400, 400]
    assert all("s3cret" not in answer.text for answer in answers)
    logged = capsys.readouterr().err
    events = [json.loads(line)["event"] for line in logged.splitlines() if line.startswith("{")]
    assert {"camera created", "capture queued", "request"} <= set(events)
    assert "s3cret" not in logged
