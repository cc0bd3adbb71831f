"""``imgsearch admin backup`` / ``restore``: they need no API and no key, and refuse before they
touch any store (these run with no server at all)."""

from pathlib import Path

import pytest

from imgsearch_cli.main import main


@pytest.fixture
def catalog_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The configuration points at a catalog that does not exist and a MinIO nobody serves."""
    path = tmp_path / "stack" / "catalog.db"
    monkeypatch.setenv("DATABASE__URL", f"sqlite:///{path}")
    monkeypatch.setenv("MINIO__ENDPOINT", "127.0.0.1:9")
    monkeypatch.setenv("LOG__LEVEL", "WARNING")
    return path


def test_backup_refuses_a_folder_that_is_not_empty(
    catalog_file: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert main(["admin", "backup", str(folder)]) == 2
    assert "is not empty (--force writes over it)" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert not catalog_file.exists()


def test_restore_refuses_a_folder_without_a_manifest(
    catalog_file: Path, tmp_path: Path, capsys
) -> None:
    assert main(["admin", "restore", str(tmp_path)]) == 2
    assert "no readable manifest.json" in capsys.readouterr().err
    assert not catalog_file.exists()
