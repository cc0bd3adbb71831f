"""Which files ``imgsearch ingest`` picks up, and how it batches them."""

from pathlib import Path

import pytest

from imgsearch_cli.ingest import FileResult, collect_files, make_batches


def touch(path: Path, size: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_collect_files_walks_folders_recursively_and_skips_hidden(tmp_path: Path) -> None:
    wanted = [
        touch(tmp_path / "a.png"),
        touch(tmp_path / "sub" / "b.jpg"),
        touch(tmp_path / "sub" / "deeper" / "c.txt"),
    ]
    touch(tmp_path / ".DS_Store")
    touch(tmp_path / ".git" / "config")
    touch(tmp_path / "sub" / ".hidden" / "d.png")
    assert collect_files([tmp_path]) == wanted


def test_collect_files_keeps_named_files_once_in_order(tmp_path: Path) -> None:
    first, second = touch(tmp_path / "z.png"), touch(tmp_path / "dir" / "y.png")
    hidden = touch(tmp_path / ".named-explicitly.png")
    assert collect_files([first, tmp_path / "dir", second, hidden]) == [first, second, hidden]


def test_collect_files_refuses_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        collect_files([tmp_path / "nope"])


def test_make_batches_caps_files_per_request(tmp_path: Path) -> None:
    items = [FileResult(touch(tmp_path / f"{i}.png")) for i in range(19)]
    assert [len(b) for b in make_batches(items, 8)] == [8, 8, 3]


def test_make_batches_caps_bytes_per_request(tmp_path: Path) -> None:
    sizes = [40, 40, 40, 100, 10]
    items = [FileResult(touch(tmp_path / f"{i}.png", size)) for i, size in enumerate(sizes)]
    batches = make_batches(items, 8, max_bytes=100)
    assert [[item.path.stat().st_size for item in b] for b in batches] == [
        [40, 40],
        [40],
        [100],
        [10],
    ]
