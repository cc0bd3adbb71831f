"""Domain types shared by every service: image ids, object keys, job states, records."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from shared.errors import InvalidInput

_IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")
# Letters and digits of any script, then also spaces and . : / + - _ (never quotes or backslashes,
# so a tag can stand inside a Milvus filter expression as it is).
_TAG = re.compile(r"^\w[\w .:/+-]{0,63}$")
MAX_TAGS = 32
SOURCES = ("upload", "url", "camera")


def image_id_of(data: bytes) -> str:
    """The content address of an image: lowercase hex SHA-256 of its exact bytes."""
    return hashlib.sha256(data).hexdigest()


def is_image_id(value: str) -> bool:
    return bool(_IMAGE_ID.fullmatch(value))


def check_image_id(value: str) -> str:
    if not is_image_id(value):
        raise InvalidInput("an image id is 64 lowercase hexadecimal characters (a SHA-256)")
    return value


def normalise_tags(raw: Iterable[str]) -> list[str]:
    """Tags as stored: trimmed, inner spaces folded, lower case, unique, sorted; at most 32."""
    tags = sorted({" ".join(tag.split()).lower() for tag in raw} - {""})
    if bad := [tag for tag in tags if not _TAG.fullmatch(tag)]:
        raise InvalidInput(
            f"tag {bad[0]!r} is not allowed: up to 64 letters, digits, spaces and . : / + - _"
        )
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"an image has at most {MAX_TAGS} tags")
    return tags


def check_source(value: str) -> str:
    if value not in SOURCES:
        raise InvalidInput(f"source is one of {', '.join(SOURCES)}")
    return value


def staging_key(image_id: str) -> str:
    return f"staging/{image_id}"


def original_key(image_id: str) -> str:
    return f"originals/{image_id}"


def thumb_key(image_id: str) -> str:
    return f"thumbs/{image_id}.webp"


def quarantine_key(image_id: str) -> str:
    """A quarantined original: outside ``originals/``, so the byte servers never serve it."""
    return f"quarantine/{image_id}"


def quarantine_thumb_key(image_id: str) -> str:
    return f"quarantine/{image_id}.webp"


def variant_key(image_id: str, variant_id: str) -> str:
    return f"variants/{image_id}/{variant_id}"


def variants_prefix(image_id: str) -> str:
    """Every variant of the image lives under this prefix (deleted with the image)."""
    return f"variants/{image_id}/"


class JobState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"  # kept for an admin's review, not searchable (shared.compliance)


@dataclass
class Job:
    """A unit of work a client can follow: what it is for, where it stands, and why it failed."""

    job_id: str
    state: JobState
    image_id: str | None = None
    filename: str | None = None
    error: str | None = None
    created_at: int = 0
    updated_at: int = 0
    kind: str = "ingest"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImageRecord:
    """One indexed image: what Milvus holds for it (the embedding is optional on reads)."""

    id: str
    width: int
    height: int
    bytes: int
    format: str
    filename: str
    ingested_at: int
    meta: dict[str, Any] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    source: str = "upload"
    camera_id: str | None = None
    tags: list[str] = field(default_factory=list)
    phash: str | None = None  # perceptual hash (``shared.phash``); the catalog keeps it, not Milvus
    captured_at: int | None = None  # a camera frame's capture time (unix ms)


@dataclass(frozen=True)
class SearchFilters:
    """Metadata filters, applied on typed scalar fields in Milvus (not on JSON). An image must
    carry every tag in ``tags``."""

    formats: tuple[str, ...] = ()
    min_width: int | None = None
    min_height: int | None = None
    ingested_after: int | None = None
    ingested_before: int | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
    camera_id: str | None = None


@dataclass
class Hit:
    record: ImageRecord
    score: float
