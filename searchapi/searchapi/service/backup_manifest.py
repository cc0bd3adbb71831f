"""A backup's table of contents: ``manifest.json`` beside the catalog file and ``objects/``.

It names the format, when the backup was taken, the catalog (kind, file, schema revision, its
SHA-256) and the model the index was built with, then every object: key → SHA-256, size, content
type. Restore trusts nothing it has not checked against it: every file is hashed before anything
is written, and an object key that would leave ``objects/`` (``..``, an absolute path) or lies
outside the stored prefixes is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from shared.errors import ImageSearchError

FORMAT = 1
MANIFEST = "manifest.json"
OBJECTS = "objects"
# What a library's bytes are: originals, thumbnails, variants, and what compliance holds back.
PREFIXES = ("originals/", "thumbs/", "variants/", "quarantine/")


class BackupRefused(ImageSearchError):
    """The backup or the target is not fit: nothing was written."""

    code = "backup-refused"


@dataclass(frozen=True)
class StoredObject:
    sha256: str
    size: int
    content_type: str


@dataclass
class Manifest:
    created_at: int
    catalog_kind: str
    catalog_file: str
    catalog_sha256: str
    schema_revision: str | None
    index_model: str | None  # the model behind the index when the backup was taken
    configured_model: str
    objects: dict[str, StoredObject] = field(default_factory=dict)
    missing_originals: list[str] = field(default_factory=list)
    format: int = FORMAT

    def write(self, directory: Path) -> None:
        body = asdict(self) | {"object_count": len(self.objects)}
        (directory / MANIFEST).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        try:
            body: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise BackupRefused(f"no readable {MANIFEST} in {directory}") from exc
        if body.get("format") != FORMAT:
            raise BackupRefused(f"backup format {body.get('format')!r} is not {FORMAT}")
        body.pop("object_count", None)
        objects = {key: StoredObject(**entry) for key, entry in body.pop("objects").items()}
        return cls(**body, objects=objects)

    def mismatches(self, directory: Path) -> list[str]:
        """Every file that is missing or differs from what the manifest says, by name."""
        found = []
        if sha256_file(directory / self.catalog_file) != self.catalog_sha256:
            found.append(self.catalog_file)
        for key, stored in sorted(self.objects.items()):
            if sha256_file(object_path(directory, key)) != stored.sha256:
                found.append(key)
        return found


def object_path(directory: Path, key: str) -> Path:
    """Where the object ``key`` lies in a backup; refuses a key that would lead elsewhere."""
    parts = PurePosixPath(key).parts
    if not key.startswith(PREFIXES) or ".." in parts or PurePosixPath(key).is_absolute():
        raise BackupRefused(f"object key {key!r} is not one a library stores")
    return directory.joinpath(OBJECTS, *parts)


def sha256_file(path: Path) -> str | None:
    """The file's SHA-256, or None when there is no such file."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()
