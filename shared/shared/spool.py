"""Incoming files, spooled as they arrive: the one byte-capped buffer for uploads and URL fetches.

A file is kept in memory up to ``SPOOL_BYTES`` and in a temporary file beyond. The byte cap is
enforced on every write: once a file passes it, everything written so far is dropped and the rest
is only counted, so an oversized file never occupies memory or disk. The SHA-256 (the image id) is
computed on the way in, so nobody reads the bytes twice to name them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from typing import IO

from shared.errors import FileTooLarge

SPOOL_BYTES = 1 << 20


def safe_filename(raw: str) -> str:
    """The last path component only, printable, at most 255 characters."""
    name = os.path.basename(raw.replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or "upload"


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by close())


@dataclass
class ReceivedFile:
    """One incoming file: its name, its bytes so far, their count and their hash."""

    filename: str
    max_bytes: int
    file: IO[bytes] = field(default_factory=_spool)
    size: int = 0
    too_large: bool = False
    _sha256: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)

    @property
    def digest(self) -> str:
        return self._sha256.hexdigest()

    def write(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False once the file is over the cap (then nothing of it is kept)."""
        self.size += len(chunk)
        if self.too_large:
            return False
        if self.size > self.max_bytes:
            self.refuse(self.size)
            return False
        self.file.write(chunk)
        self._sha256.update(chunk)
        return True

    def refuse(self, size: int) -> None:
        """Mark the file as over the cap (e.g. from a declared length) and drop what it holds."""
        self.size = max(self.size, size)
        self.too_large = True
        self.file.seek(0)
        self.file.truncate(0)

    def check_size(self) -> None:
        """Raise ``FileTooLarge`` if the file went over the cap."""
        if self.too_large:
            raise FileTooLarge(f"{self.filename} is larger than the {self.max_bytes} byte limit")

    def rewind(self) -> None:
        self.file.seek(0)

    def close(self) -> None:
        self.file.close()
