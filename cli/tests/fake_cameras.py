"""The cameras half of the CLI's fake server: cameras (URLs kept whole, answered masked, as the
real server does) and captures that move one step per poll: queued, capturing, then ``fate``
(``done``, or ``failed`` with a reason), keeping a frame a poll."""

from __future__ import annotations

import itertools
import re
from typing import Any

from cli.tests.fake_identity import Answer, problem

CREDENTIALS = re.compile(r"^(rtsps?://[^:@/]+):[^@/]*@")
FRAMES_PER_CAPTURE = 3


def mask(url: str) -> str:
    return CREDENTIALS.sub(r"\1:***@", url)


class FakeCameras:
    def __init__(self) -> None:
        self.cameras: dict[str, dict[str, Any]] = {}  # id -> the camera, URL unmasked
        self.captures: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []  # the bodies of POST /ingest/rtsp
        self.fate = "done"
        self.ids = itertools.count(1)

    def add(self, name: str, rtsp_url: str) -> str:
        camera_id = f"{next(self.ids):08x}-0000-4000-8000-000000000000"
        self.cameras[camera_id] = {
            "camera_id": camera_id,
            "name": name,
            "rtsp_url": rtsp_url,
            "defaults": {},
            "created_at": 1_796_047_500_000,
            "updated_at": 1_796_047_500_000,
        }
        return camera_id

    def shown(self, camera_id: str) -> dict[str, Any]:
        camera = self.cameras[camera_id]
        return {**camera, "rtsp_url": mask(camera["rtsp_url"])}

    def list(self) -> Answer:
        return 200, {"cameras": [self.shown(camera_id) for camera_id in self.cameras]}

    def create(self, body: dict[str, Any]) -> Answer:
        if not str(body.get("rtsp_url", "")).startswith(("rtsp://", "rtsps://")):
            return 400, problem(400, "Invalid input", "a camera's URL is rtsp:// or rtsps://")
        if any(c["name"] == body["name"] for c in self.cameras.values()):
            return 409, problem(409, "Conflict", f"a camera is already named {body['name']!r}")
        return 201, self.shown(self.add(body["name"], body["rtsp_url"]))

    def delete(self, camera_id: str) -> Answer:
        if self.cameras.pop(camera_id, None) is None:
            return 404, problem(404, "Not found", f"no camera {camera_id}")
        return 204, None

    def start(self, body: dict[str, Any]) -> Answer:
        self.requests.append(body)
        camera_id = body.get("camera_id", "")
        if camera_id not in self.cameras:
            return 404, problem(404, "Not found", f"no camera {camera_id}")
        capture_id = f"{next(self.ids):08x}-1111-4000-8000-000000000000"
        self.captures[capture_id] = {
            "capture_id": capture_id,
            "camera_id": camera_id,
            "state": "queued",
            "params": body,
            "frames_kept": 0,
            "frames_skipped": 0,
            "reconnects": 0,
            "error": None,
            "rtsp_url": mask(self.cameras[camera_id]["rtsp_url"]),
        }
        return 202, {"capture_id": capture_id, "state": "queued", "camera_id": camera_id}

    def poll(self, capture_id: str) -> Answer:
        capture = self.captures.get(capture_id)
        if capture is None:
            return 404, problem(404, "Not found", f"no capture {capture_id}")
        answer = dict(capture)
        if capture["state"] in ("queued", "capturing"):
            capture["state"] = "capturing"
            capture["frames_kept"] += 1
            capture["frames_skipped"] += 1
            if capture["frames_kept"] == FRAMES_PER_CAPTURE:
                capture["state"] = self.fate
                capture["reconnects"] = 1
                if self.fate == "failed":
                    capture["error"] = "the camera stopped answering after 1 reconnect"
        return 200, answer
