"""A backup's manifest: written and read back, files checked against it, hostile keys refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from searchapi.service.backup_manifest import (
    MANIFEST,
    BackupRefused,
    Manifest,
    StoredObject,
    object_path,
)

ORIGINAL = "originals/" + "a" * 64


def _backup(directory: Path, data: bytes = b"picture bytes") -> Manifest:
    (directory / "catalog.sqlite").write_bytes(b"catalog")
    path = object_path(directory, ORIGINAL)
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    manifest = Manifest(
        created_at=1,
        catalog_kind="sqlite",
        catalog_file="catalog.sqlite",
        catalog_sha256=hashlib.sha256(b"catalog").hexdigest(),
        schema_revision="0004",
        index_model="tiny-shapes/sha256:0123",
        configured_model="tiny-shapes/sha256:0123",
        objects={ORIGINAL: StoredObject(hashlib.sha256(data).hexdigest(), len(data), "image/png")},
    )
    manifest.write(directory)
    return manifest


def test_manifest_reads_back_what_was_written(tmp_path: Path) -> None:
    written = _backup(tmp_path)
    assert Manifest.read(tmp_path) == written
    assert json.loads((tmp_path / MANIFEST).read_text())["object_count"] == 1


def test_untouched_backup_has_no_mismatch(tmp_path: Path) -> None:
    assert _backup(tmp_path).mismatches(tmp_path) == []


def test_a_changed_object_and_a_missing_catalog_are_both_named(tmp_path: Path) -> None:
    manifest = _backup(tmp_path)
    object_path(tmp_path, ORIGINAL).write_bytes(b"picture bytez")
    (tmp_path / "catalog.sqlite").unlink()
    assert manifest.mismatches(tmp_path) == ["catalog.sqlite", ORIGINAL]


@pytest.mark.parametrize(
    "key", ["originals/../../etc/passwd", "/originals/x", "staging/" + "a" * 64, "manifest.json"]
)
def test_object_keys_outside_the_library_prefixes_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(BackupRefused):
        object_path(tmp_path, key)


def test_a_folder_without_a_manifest_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(BackupRefused, match="manifest.json"):
        Manifest.read(tmp_path)


def test_another_format_is_refused(tmp_path: Path) -> None:
    _backup(tmp_path)
    body = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps(body | {"format": 99}))
    with pytest.raises(BackupRefused, match="99"):
        Manifest.read(tmp_path)
