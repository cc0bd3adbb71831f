"""``imgsearch cameras list|add|rm`` (admins) and ``imgsearch capture`` (editors): RTSP cameras
and captures from them.

A camera's URL may carry a password: the CLI sends it and never prints it. What it shows of a
URL is what the server answers, masked (``rtsp://user:***@host/path``); a refusal's detail comes
from the server, which leaves credentials out too.

``capture`` prints the capture id alone on stdout (``ID=$(imgsearch capture …)``); with
``--wait`` it follows the capture until it ends and prints what it kept. Options left out come
from the camera's defaults; ``--interval``, ``--frames`` or ``--duration`` ask for a series of
frames, and without them a camera with no defaults takes a single frame.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console

from imgsearch_cli.client import Client
from imgsearch_cli.ingest import parse_tags
from imgsearch_cli.table import print_aligned, short_time

FINAL = frozenset({"done", "failed", "cancelled"})
POLL_FIRST_S, POLL_MAX_S = 0.25, 3.0


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    cameras = commands.add_parser("cameras", help="RTSP cameras (admins only)")
    actions = cameras.add_subparsers(dest="cameras_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="every camera, URLs masked")
    listing.add_argument("--json", action="store_true", help="print the API's JSON answer")
    add = actions.add_parser("add", parents=[common], help="add a camera")
    add.add_argument("name", metavar="NAME", help="what people see, e.g. porch")
    add.add_argument(
        "rtsp_url", metavar="URL", help="rtsp://[user:password@]host[:port]/path (kept, not shown)"
    )
    add.add_argument("--json", action="store_true", help="print the API's answer")
    remove = actions.add_parser("rm", parents=[common], help="delete a camera (its images stay)")
    remove.add_argument("camera_id", metavar="ID", help="as `cameras list` shows it")

    capture = commands.add_parser(
        "capture",
        parents=[common],
        help="capture frames from a camera into the library",
        description="Prints the capture's id. Exit status with --wait: 0 done, 1 failed or "
        "cancelled, 2 errors.",
    )
    capture.add_argument("camera_id", metavar="CAMERA_ID", help="as `cameras list` shows it")
    capture.add_argument("--interval", type=float, metavar="S", help="seconds between frames")
    capture.add_argument("--frames", type=int, metavar="N", help="keep at most N frames")
    capture.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    capture.add_argument(
        "--min-change",
        type=float,
        metavar="D",
        help="skip a frame within cosine distance D of the last kept one (0..2)",
    )
    capture.add_argument(
        "--tag",
        dest="tags",
        action="extend",
        type=parse_tags,
        default=[],
        metavar="TAG",
        help="tag every frame with TAG (repeatable, or comma-separated)",
    )
    capture.add_argument("--wait", action="store_true", help="follow it until it ends")
    capture.add_argument("--json", action="store_true", help="print the API's answer")


def run_cameras(client: Client, args: argparse.Namespace, out: Console) -> int:
    if args.cameras_command == "list":
        return list_cameras(client, args.json, out)
    if args.cameras_command == "add":
        made = client.create_camera(args.name, args.rtsp_url)
        if args.json:
            out.print_json(data=made)
        else:
            out.print(
                f"Added camera {made['camera_id']} “{made['name']}” ({made['rtsp_url']}).",
                soft_wrap=True,
                highlight=False,
                markup=False,
            )
        return 0
    client.delete_camera(args.camera_id)
    out.print(f"Deleted camera {args.camera_id}.", highlight=False, markup=False)
    return 0


def list_cameras(client: Client, as_json: bool, out: Console) -> int:
    answer = client.cameras()
    if as_json:
        out.print_json(data=answer)
        return 0
    cameras: list[dict[str, Any]] = answer.get("cameras", [])
    if not cameras:
        out.print("No cameras.")
        return 0
    header = ("id", "name", "created", "url")
    rows = [
        (c["camera_id"], c.get("name") or "", short_time(c.get("created_at")), c["rtsp_url"])
        for c in cameras
    ]
    print_aligned(out, header, rows)
    return 0


def capture_request(args: argparse.Namespace) -> dict[str, Any]:
    """The body of ``POST /ingest/rtsp``: only what was asked for (the camera's defaults fill the
    rest); a series when any of interval, frames or duration is given."""
    body: dict[str, Any] = {"camera_id": args.camera_id}
    asked = {
        "interval_s": args.interval,
        "max_frames": args.frames,
        "duration_s": args.duration,
        "min_change": args.min_change,
    }
    body |= {name: value for name, value in asked.items() if value is not None}
    if args.interval is not None or args.frames is not None or args.duration is not None:
        body["mode"] = "interval"
    if args.tags:
        body["tags"] = list(dict.fromkeys(args.tags))
    return body


def run_capture(client: Client, args: argparse.Namespace, out: Console) -> int:
    started = client.start_capture(capture_request(args))
    capture_id = started["capture_id"]
    if not args.wait:
        if args.json:
            out.print_json(data=started)
        else:
            out.print(capture_id, soft_wrap=True, highlight=False, markup=False)
        return 0
    if not args.json:
        out.print(capture_id, soft_wrap=True, highlight=False, markup=False)
    capture = follow(client, capture_id)
    if args.json:
        out.print_json(data=capture)
    else:
        out.print(describe(capture), soft_wrap=True, highlight=False, markup=False)
    return 0 if capture["state"] == "done" else 1


def follow(client: Client, capture_id: str) -> dict[str, Any]:
    """Poll the capture until it ends, a little less often while nothing changes."""
    delay = POLL_FIRST_S
    capture = client.capture(capture_id)
    while capture["state"] not in FINAL:
        time.sleep(delay)
        seen = capture
        capture = client.capture(capture_id)
        moved = (capture["state"], capture.get("frames_kept")) != (
            seen["state"],
            seen.get("frames_kept"),
        )
        delay = POLL_FIRST_S if moved else min(POLL_MAX_S, delay * 1.5)
    return capture


def describe(capture: dict[str, Any]) -> str:
    """``done: 5 frames kept, 2 skipped as unchanged, 1 reconnect`` (and why, if it failed)."""
    kept, skipped = capture.get("frames_kept", 0), capture.get("frames_skipped", 0)
    reconnects = capture.get("reconnects", 0)
    line = (
        f"{capture['state']}: {kept} {'frame' if kept == 1 else 'frames'} kept, "
        f"{skipped} skipped as unchanged, {reconnects} "
        f"{'reconnect' if reconnects == 1 else 'reconnects'}"
    )
    return f"{line}: {capture['error']}" if capture.get("error") else line
