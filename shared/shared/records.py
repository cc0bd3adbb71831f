"""The one way an ``ImageRecord`` is made from a decoded image (ingest and re-index both use it).

Width and height are those of the upright picture (EXIF orientation applied), ``bytes`` the size
of the original as stored, ``meta`` the EXIF found while decoding plus where the record came from,
``phash`` the perceptual hash of the upright picture (duplicate search compares them).
Kept apart from ``shared.domain`` so the domain types do not pull in Pillow.
"""

from __future__ import annotations

import time

import numpy as np

from shared.domain import ImageRecord
from shared.imaging import DecodedImage
from shared.phash import perceptual_hash


def record_of(
    image_id: str,
    decoded: DecodedImage,
    *,
    size: int,
    filename: str,
    source: str,
    embedding: np.ndarray | None = None,
    known: ImageRecord | None = None,
    camera_id: str | None = None,
    captured_at: int | None = None,
) -> ImageRecord:
    """The record of an image as decoded now. A ``known`` record (re-index, repair) keeps what was
    learned when the image was first ingested: filename, ingest time, metadata, source, camera,
    capture time, tags."""
    return ImageRecord(
        id=image_id,
        width=decoded.info.width,
        height=decoded.info.height,
        bytes=size,
        format=decoded.info.format,
        filename=known.filename if known else filename,
        ingested_at=known.ingested_at if known else int(time.time() * 1000),
        meta=known.meta if known else {"exif": decoded.exif},
        embedding=embedding,
        source=known.source if known else source,
        camera_id=known.camera_id if known else camera_id,
        captured_at=known.captured_at if known else captured_at,
        tags=list(known.tags) if known else [],
        phash=perceptual_hash(decoded.image),
    )
