"""``make camera-demo``: a camera in the running ``make dev`` stack, pointed at a test RTSP server.

Starts ``tools/rtsp_test_server.py`` (Debian's GStreamer, run by the system Python) on a free
loopback port with a password, adds or updates the camera "demo-camera" with the admin's key
from ``data/admin-credentials``, captures 5 frames at 1 s intervals, waits until they are
indexed, prints where to find them filtered by the camera, and stops the server.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
CAMERA = "demo-camera"
FRAMES = 5


def api_key(path: Path) -> str:
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "IMGSEARCH_API_KEY":
            return value.strip()
    sys.exit(f"no IMGSEARCH_API_KEY in {path} (run `make dev` first)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, password: str) -> subprocess.Popen[str]:
    argv = ["/usr/bin/python3", str(ROOT / "tools" / "rtsp_test_server.py"), "--port", str(port)]
    argv += ["--user", "demo", "--password", password]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":  # blocks until it listens, or exits
        sys.exit("the RTSP test server did not start (make setup installs GStreamer)")
    return server


def checked(response: httpx.Response, *ok: int) -> Any:
    if response.status_code not in ok:
        sys.exit(f"{response.request.method} {response.request.url.path}: {response.text}")
    return response.json()


def upsert_camera(client: httpx.Client, rtsp_url: str) -> str:
    """The demo camera, created, or its URL moved to this run's server."""
    response = client.post("/api/v1/cameras", json={"name": CAMERA, "rtsp_url": rtsp_url})
    if response.status_code != 409:
        return str(checked(response, 201)["camera_id"])
    cameras = checked(client.get("/api/v1/cameras"), 200)["cameras"]
    [camera_id] = [camera["camera_id"] for camera in cameras if camera["name"] == CAMERA]
    checked(client.patch(f"/api/v1/cameras/{camera_id}", json={"rtsp_url": rtsp_url}), 200)
    return str(camera_id)


def wait_for(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the front door")
    parser.add_argument("--credentials", type=Path, default=ROOT / "data" / "admin-credentials")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {api_key(args.credentials)}"}
    port, password = free_port(), secrets.token_urlsafe(12)
    server = start_server(port, password)
    try:
        with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
            camera_id = upsert_camera(client, f"rtsp://demo:{password}@127.0.0.1:{port}/cam")
            body = {"camera_id": camera_id, "mode": "interval", "interval_s": 1}
            body |= {"max_frames": FRAMES, "duration_s": 60, "tags": ["demo"]}
            capture_id = checked(client.post("/api/v1/ingest/rtsp", json=body), 202)["capture_id"]
            print(f"capturing {FRAMES} frames from camera {camera_id} (capture {capture_id})")

            def ended() -> Any:
                capture = checked(client.get(f"/api/v1/ingest/captures/{capture_id}"), 200)
                return capture if capture["state"] in ("done", "failed", "cancelled") else None

            capture = wait_for("the capture", ended, 120)
            print(f"capture {capture['state']}: {capture['frames_kept']} frames kept")
            if capture["state"] != "done":
                sys.exit(f"the capture ended {capture['state']}: {capture['error']}")
            filtered = {"camera_id": camera_id}
            wait_for(
                "the frames to be indexed",
                lambda: (
                    checked(client.get("/api/v1/image", params=filtered), 200)["total"] >= FRAMES
                ),
                120,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"page:   {args.url}/?{urlencode({'camera': camera_id})}")
    print(f"search: {args.url}/api/v1/image/search?{urlencode({'text': 'a ball', **filtered})}")
    print(f"list:   {args.url}/api/v1/image?{urlencode(filtered)}")


if __name__ == "__main__":
    main()
