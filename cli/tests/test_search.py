"""``imgsearch search`` against a real local HTTP server that speaks the contract (FakeApi)."""

import json
from pathlib import Path

import pytest

from imgsearch_cli.main import main


@pytest.fixture(autouse=True)
def viewer_key(use_key) -> str:
    return use_key("viewer")


def test_search_prints_ranked_hits_with_absolute_urls(fake_api, capsys) -> None:
    assert main(["search", "a red circle", "--url", fake_api.url, "--limit", "2"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "Best matches for “a red circle”"
    assert lines[1].split() == ["#", "score", "id", "filename", "size", "format", "URL"]
    first = lines[2].split()
    assert first[:6] == ["1", "0.900", "0" * 12, "red-circle-0000.jpg", "640×480", "JPEG"]
    assert first[6] == f"{fake_api.url}/images/{'0' * 64}"
    assert "demo model" in captured.err
    assert fake_api.searches == [{"text": "a red circle", "file": None}]


def test_search_json_is_the_answer_with_absolute_urls(fake_api, capsys) -> None:
    assert main(["search", "a red circle", "--url", fake_api.url, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [hit["score"] for hit in answer["results"]] == [0.9, 0.8]
    assert answer["results"][1]["thumb_url"] == f"{fake_api.url}/images/{1:064x}/thumb"


def test_search_by_picture_sends_the_file(fake_api, tmp_path: Path, capsys) -> None:
    picture = tmp_path / "holiday.jpg"
    picture.write_bytes(b"\xff\xd8\xff" + b"0" * 10)
    assert main(["search", "--image", str(picture), "--url", fake_api.url]) == 0
    assert fake_api.searches == [{"text": None, "file": "holiday.jpg"}]
    assert "red-circle-0001.jpg" in capsys.readouterr().out


def test_search_reports_the_problem_detail_and_exits_2(fake_api, capsys) -> None:
    assert main(["search", "explode", "--url", fake_api.url]) == 2
    assert "503: the vector store is not reachable" in capsys.readouterr().err


def test_search_needs_text_or_a_picture(fake_api) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "--url", fake_api.url])
    assert exit_info.value.code == 2
