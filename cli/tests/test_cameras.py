"""``imgsearch cameras list|add|rm`` and ``imgsearch capture`` against the fake server (conftest):
URLs are shown as the server masks them, a capture prints its id and ``--wait`` its counts."""

from __future__ import annotations

import json

import pytest

from imgsearch_cli.main import main

SECRET_URL = "rtsp://viewer:s3cret@192.168.1.20:554/stream1"
MASKED_URL = "rtsp://viewer:***@192.168.1.20:554/stream1"


@pytest.fixture(autouse=True)
def admin_key(use_key) -> str:
    return use_key("admin")


def test_add_shows_the_camera_with_its_url_masked_and_never_the_password(fake_api, capsys) -> None:
    assert main(["cameras", "add", "porch", SECRET_URL, "--url", fake_api.url]) == 0
    out, err = capsys.readouterr()
    [camera_id] = fake_api.cameras.cameras
    assert out == f"Added camera {camera_id} “porch” ({MASKED_URL}).\n"
    assert "s3cret" not in out + err
    assert fake_api.cameras.cameras[camera_id]["rtsp_url"] == SECRET_URL  # sent whole


def test_list_shows_one_line_per_camera_masked(fake_api, capsys) -> None:
    porch = fake_api.cameras.add("porch", SECRET_URL)
    gate = fake_api.cameras.add("gate", "rtsp://10.0.0.7/live")
    assert main(["cameras", "list", "--url", fake_api.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "name", "created", "url"]
    assert [line.split() for line in lines[1:]] == [
        [porch, "porch", "2026-11-30", "14:05", MASKED_URL],
        [gate, "gate", "2026-11-30", "14:05", "rtsp://10.0.0.7/live"],
    ]


def test_list_json_is_the_api_answer_and_an_empty_list_says_so(fake_api, capsys) -> None:
    assert main(["cameras", "list", "--url", fake_api.url]) == 0
    assert capsys.readouterr().out == "No cameras.\n"
    fake_api.cameras.add("porch", SECRET_URL)
    assert main(["cameras", "list", "--json", "--url", fake_api.url]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["cameras"][0]["rtsp_url"] == MASKED_URL and "s3cret" not in out


def test_a_refused_camera_says_why_without_the_password(fake_api, capsys) -> None:
    fake_api.cameras.add("porch", "rtsp://10.0.0.7/live")
    assert main(["cameras", "add", "porch", SECRET_URL, "--url", fake_api.url]) == 2
    _, err = capsys.readouterr()
    assert "409: a camera is already named 'porch'" in err and "s3cret" not in err


def test_rm_deletes_the_camera_and_an_unknown_one_is_not_found(fake_api, capsys) -> None:
    porch = fake_api.cameras.add("porch", SECRET_URL)
    assert main(["cameras", "rm", porch, "--url", fake_api.url]) == 0
    assert capsys.readouterr().out == f"Deleted camera {porch}.\n"
    assert fake_api.cameras.cameras == {}
    assert main(["cameras", "rm", porch, "--url", fake_api.url]) == 2
    assert f"404: no camera {porch}" in capsys.readouterr().err


def test_cameras_need_an_admin(fake_api, capsys, use_key) -> None:
    use_key("editor")
    assert main(["cameras", "add", "porch", SECRET_URL, "--url", fake_api.url]) == 2
    err = capsys.readouterr().err
    assert "403: this needs the admin role" in err and "s3cret" not in err
    assert fake_api.cameras.cameras == {}


def test_capture_prints_only_its_id_and_sends_only_what_was_asked(fake_api, capsys) -> None:
    porch = fake_api.cameras.add("porch", SECRET_URL)
    assert main(["capture", porch, "--url", fake_api.url]) == 0
    [capture_id] = fake_api.cameras.captures
    assert capsys.readouterr().out == f"{capture_id}\n"
    assert fake_api.cameras.requests == [{"camera_id": porch}]  # the camera's defaults decide


def test_capture_options_ask_for_a_series(fake_api, capsys) -> None:
    porch = fake_api.cameras.add("porch", SECRET_URL)
    argv = ["capture", porch, "--interval", "0.5", "--frames", "5", "--duration", "30"]
    argv += ["--min-change", "0.1", "--tag", "Night,porch", "--tag", "night"]
    assert main([*argv, "--url", fake_api.url]) == 0
    assert fake_api.cameras.requests == [
        {
            "camera_id": porch,
            "mode": "interval",
            "interval_s": 0.5,
            "max_frames": 5,
            "duration_s": 30,
            "min_change": 0.1,
            "tags": ["night", "porch"],
        }
    ]


def test_capture_wait_follows_it_to_the_end_and_prints_the_counts(
    fake_api, capsys, use_key
) -> None:
    porch = fake_api.cameras.add("porch", SECRET_URL)
    use_key("editor")
    assert main(["capture", porch, "--frames", "3", "--wait", "--url", fake_api.url]) == 0
    [capture_id] = fake_api.cameras.captures
    out, err = capsys.readouterr()
    assert out == (f"{capture_id}\ndone: 3 frames kept, 3 skipped as unchanged, 1 reconnect\n")
    assert "s3cret" not in out + err


def test_capture_wait_exits_1_with_the_reason_when_it_fails(fake_api, capsys) -> None:
    porch = fake_api.cameras.add("porch", SECRET_URL)
    fake_api.cameras.fate = "failed"
    assert main(["capture", porch, "--wait", "--json", "--url", fake_api.url]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert (answer["state"], answer["frames_kept"]) == ("failed", 3)
    assert answer["error"] == "the camera stopped answering after 1 reconnect"


def test_capture_of_an_unknown_camera_is_not_found(fake_api, capsys) -> None:
    assert main(["capture", "nope", "--url", fake_api.url]) == 2
    assert "404: no camera nope" in capsys.readouterr().err
    assert fake_api.cameras.captures == {}
