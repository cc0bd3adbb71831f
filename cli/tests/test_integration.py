"""``imgsearch`` against the real stack (front door, services, worker, tiny model).

Wiring: the ``stack_url`` fixture (conftest.py) takes the session fixtures' ``frontdoor_url``.
"""

import json
from pathlib import Path

import httpx
import pytest

from imagesearch_samples.shapes import save_samples
from imgsearch_cli.main import main

pytestmark = pytest.mark.integration
NOT_IMAGES = {
    "notes.txt": b"meeting notes, not a picture\n",
    "renamed-text.png": b"this is text with a .png name\n",
    "truncated.jpg": None,  # the first 200 bytes of a real JPEG: its header, no picture
}


def test_ingest_of_a_mixed_folder_reports_each_file_and_exits_1(
    stack_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pictures = save_samples(tmp_path / "png", 100, seed=4711, fmt="PNG")
    pictures += save_samples(tmp_path / "jpeg" / "nested", 100, seed=4712, fmt="JPEG")
    for name, data in NOT_IMAGES.items():
        (tmp_path / name).write_bytes(data or pictures[-1].read_bytes()[:200])
    (tmp_path / ".hidden.png").write_bytes(pictures[0].read_bytes()[:50])  # skipped: hidden

    status = main(["ingest", "--url", stack_url, "--json", "--timeout", "300", str(tmp_path)])

    summary = json.loads(capsys.readouterr().out)
    outcome = {Path(f["path"]).name: f for f in summary["files"]}
    assert status == 1
    assert len(outcome) == 203
    assert summary["done"] + summary["duplicate"] == 200, summary
    assert summary["failed"] == 3 and summary["unfinished"] == 0
    for name in NOT_IMAGES:
        assert outcome[name]["state"] == "failed" and outcome[name]["reason"], outcome[name]
    assert "not an image" in outcome["notes.txt"]["reason"]

    assert main(["search", "a red circle", "--url", stack_url, "--limit", "5", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["results"]
    assert hits[0]["filename"].startswith("red-circle-"), hits
    assert hits[0]["url"] == f"{stack_url}/images/{hits[0]['id']}"


def test_demo_loads_pictures_that_search_then_finds(
    stack_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo`: generated shapes go in through the front door and are found by words."""
    status = main(["demo", "--url", stack_url, "--count", "24", "--seed", "77", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["done"] + summary["duplicate"] == 24 and summary["failed"] == 0

    assert main(["search", "a green star", "--url", stack_url, "--limit", "1", "--json"]) == 0
    [top] = json.loads(capsys.readouterr().out)["results"]
    assert top["filename"].startswith("green-star-"), top


def test_ingest_tags_what_it_uploads_and_verify_reports_through_the_front_door(
    stack_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [picture] = save_samples(tmp_path, 1, seed=4713, fmt="PNG")
    tags = ["--tag", "Holiday", "--tag", "beach, 2024"]
    assert main(["ingest", "--url", stack_url, "--json", *tags, str(picture)]) == 0
    [uploaded] = json.loads(capsys.readouterr().out)["files"]
    image = httpx.get(f"{stack_url}/api/v1/image/{uploaded['image_id']}", timeout=10).json()
    assert image["tags"] == ["2024", "beach", "holiday"] and image["source"] == "upload"

    status = main(["admin", "verify", "--url", stack_url, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == (0 if report["unrepaired"] == 0 else 1), report
    assert report["counts"]["catalog"] >= 1
    assert uploaded["image_id"] not in {p["image_id"] for p in report["problems"]}
