"""``imgsearch ingest`` against a real local HTTP server that speaks the contract (FakeApi)."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from imgsearch_cli.main import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("imgsearch_cli.ingest.RETRY_DELAY_S", 0.01)


@pytest.fixture(autouse=True)
def editor_key(use_key) -> str:
    return use_key("editor")


def image(path: Path, extra: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG + os.urandom(16) + extra)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["ingest", "--json", *argv])
    return status, json.loads(capsys.readouterr().out)


def reasons(summary: dict[str, Any]) -> dict[str, str]:
    return {Path(f["path"]).name: f["reason"] for f in summary["files"] if f["reason"]}


def test_ingest_summarises_each_outcome_and_exits_1_on_failures(fake_api, tmp_path, capsys) -> None:
    for i in range(10):
        image(tmp_path / "photos" / f"{i:02d}.png")
    copy = tmp_path / "copies" / "00-again.png"
    copy.parent.mkdir()
    copy.write_bytes((tmp_path / "photos" / "00.png").read_bytes())
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "fake.png").write_text("not a picture either")
    image(tmp_path / "broken.png", b"FAILME")

    status, summary = run(capsys, "--url", fake_api.url, str(tmp_path))

    assert status == 1
    assert (summary["done"], summary["duplicate"], summary["failed"]) == (10, 1, 3)
    assert reasons(summary) == {
        "notes.txt": "not an image; accepted formats are JPEG, PNG, WebP, GIF, BMP or TIFF",
        "fake.png": "not an image; accepted formats are JPEG, PNG, WebP, GIF, BMP or TIFF",
        "broken.png": "could not decode the image: truncated data",
    }


def test_ingest_exits_0_when_every_file_is_in_the_library(fake_api, tmp_path, capsys) -> None:
    files = [str(image(tmp_path / f"{i}.png")) for i in range(3)]
    status, summary = run(capsys, "--url", fake_api.url, *files)
    assert status == 0
    assert summary["done"] == 3 and summary["failed"] == 0


def test_ingest_uploads_batches_in_parallel_with_the_api_key(
    fake_api, tmp_path, capsys, monkeypatch, editor_key
) -> None:
    monkeypatch.setenv("IMGSEARCH_URL", fake_api.url)
    fake_api.upload_delay = 0.3
    for i in range(20):
        image(tmp_path / f"{i:02d}.png")

    status, summary = run(capsys, "--batch-size", "3", "--concurrency", "2", str(tmp_path))

    assert status == 0 and summary["done"] == 20
    assert sorted(len(u["filenames"]) for u in fake_api.uploads) == [2, 3, 3, 3, 3, 3, 3]
    assert fake_api.max_in_flight == 2
    assert {u["auth"] for u in fake_api.uploads} == {f"Bearer {editor_key}"}


def test_ingest_reports_each_file_of_a_wholly_rejected_request(fake_api, tmp_path, capsys) -> None:
    for name in ("a.txt", "b.pdf"):
        (tmp_path / name).write_text("text")
    status, summary = run(capsys, "--url", fake_api.url, str(tmp_path))
    assert status == 1
    assert summary["failed"] == 2
    assert set(reasons(summary)) == {"a.txt", "b.pdf"}
    assert all(r.startswith("not an image") for r in reasons(summary).values())


def test_ingest_retries_while_the_service_is_unavailable(fake_api, tmp_path, capsys) -> None:
    fake_api.unavailable = 1
    status, summary = run(capsys, "--url", fake_api.url, str(image(tmp_path / "a.png")))
    assert status == 0 and summary["done"] == 1


def test_ingest_gives_up_at_the_timeout_and_says_so(fake_api, tmp_path, capsys) -> None:
    image(tmp_path / "ok.png")
    image(tmp_path / "slow.png", b"STUCK")
    status, summary = run(capsys, "--url", fake_api.url, "--timeout", "1.5", str(tmp_path))
    assert status == 1
    assert summary["done"] == 1 and summary["unfinished"] == 1
    assert "timeout" in reasons(summary)["slow.png"]


def test_ingest_prints_a_readable_summary(fake_api, tmp_path, capsys) -> None:
    image(tmp_path / "ok.png")
    (tmp_path / "notes.txt").write_text("x")
    assert main(["ingest", "--url", fake_api.url, str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "2 files" in out and "1 done, 0 duplicate, 1 failed" in out
    assert "notes.txt" in out and "not an image" in out


def test_ingest_of_nothing_is_a_usage_error(fake_api, tmp_path, capsys) -> None:
    (tmp_path / ".only-hidden").write_text("x")
    assert main(["ingest", "--url", fake_api.url, str(tmp_path)]) == 2
    assert "no files found" in capsys.readouterr().err
    assert main(["ingest", "--url", fake_api.url, str(tmp_path / "missing")]) == 2


def test_ingest_says_when_the_server_cannot_be_reached(tmp_path, capsys) -> None:
    status, summary = run(capsys, "--url", "http://127.0.0.1:9", str(image(tmp_path / "a.png")))
    assert status == 1
    assert "could not reach http://127.0.0.1:9" in reasons(summary)["a.png"]


def test_ingest_sends_the_tags_with_every_upload_request(fake_api, tmp_path, capsys) -> None:
    files = [str(image(tmp_path / f"{i}.png")) for i in range(5)]
    tags = ["--tag", "Holiday", "--tag", "beach, 2024", "--tag", "holiday"]
    status, summary = run(capsys, "--url", fake_api.url, "--batch-size", "2", *tags, *files)
    assert status == 0 and summary["done"] == 5
    assert len(fake_api.uploads) == 3
    assert [u["tags"] for u in fake_api.uploads] == [["holiday", "beach", "2024"]] * 3


def test_ingest_without_tags_sends_no_tag_parts(fake_api, tmp_path, capsys) -> None:
    status, _ = run(capsys, "--url", fake_api.url, str(image(tmp_path / "a.png")))
    assert status == 0 and fake_api.uploads[0]["tags"] == []


@pytest.mark.parametrize("tag", ["", "a,,b", "x" * 65, "<script>"])
def test_ingest_refuses_a_bad_tag_before_uploading(fake_api, tmp_path, capsys, tag) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", "--url", fake_api.url, "--tag", tag, str(image(tmp_path / "a.png"))])
    assert exit_info.value.code == 2
    assert "is not a tag" in capsys.readouterr().err
    assert fake_api.uploads == []


def test_ingest_refuses_more_tags_than_an_image_may_have(fake_api, tmp_path, capsys) -> None:
    tags = ",".join(f"t{i}" for i in range(33))
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", "--url", fake_api.url, "--tag", tags, str(image(tmp_path / "a.png"))])
    assert exit_info.value.code == 2
    assert "at most 32 tags" in capsys.readouterr().err
    assert fake_api.uploads == []
