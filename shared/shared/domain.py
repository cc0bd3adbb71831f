"""Domain types shared by every service: image ids, object keys, job states, records."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from shared.errors import InvalidInput

_IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")


def image_id_of(data: bytes) -> str:
    """The content address of an image: lowercase hex SHA-256 of its exact bytes."""
    return hashlib.sha256(data).hexdigest()


def is_image_id(value: str) -> bool:
    return bool(_IMAGE_ID.fullmatch(value))


def check_image_id(value: str) -> str:
    if not is_image_id(value):
        raise InvalidInput("an image id is 64 lowercase hexadecimal characters (a SHA-256)")
    return value


def staging_key(image_id: str) -> str:
    return f"staging/{image_id}"


def original_key(image_id: str) -> str:
    return f"originals/{image_id}"


def thumb_key(image_id: str) -> str:
    return f"thumbs/{image_id}.webp"


class JobState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DUPLICATE = "duplicate"

    @property
    def terminal(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.DUPLICATE)


@dataclass
class Job:
    job_id: str
    state: JobState
    image_id: str | None = None
    filename: str | None = None
    error: str | None = None
    created_at: int = 0
    updated_at: int = 0


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


@dataclass(frozen=True)
class SearchFilters:
    """Metadata filters, applied on typed scalar fields in Milvus (not on JSON)."""

    formats: tuple[str, ...] = ()
    min_width: int | None = None
    min_height: int | None = None
    ingested_after: int | None = None
    ingested_before: int | None = None


@dataclass
class Hit:
    record: ImageRecord
    score: float
