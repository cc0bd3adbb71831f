"""The one record builder: what ingest and re-index store for an image they just decoded."""

import time

import numpy as np

from shared.domain import ImageRecord
from shared.imaging import decode_image
from shared.records import record_of
from tests.support.images import jpeg_with_exif

MAX_PIXELS = 50_000_000


def test_a_new_record_describes_the_upright_image_and_its_exif() -> None:
    data = jpeg_with_exif(orientation=6)  # stored 64x48, upright 48x64
    decoded = decode_image(data, MAX_PIXELS)
    embedding = np.arange(4, dtype=np.float32)
    before = int(time.time() * 1000)

    record = record_of(
        "a" * 64, decoded, size=len(data), filename="cat.jpg", source="url", embedding=embedding
    )

    after = int(time.time() * 1000)
    assert (record.id, record.width, record.height) == ("a" * 64, 48, 64)
    assert (record.bytes, record.format, record.filename) == (len(data), "JPEG", "cat.jpg")
    assert (record.source, record.camera_id, record.tags) == ("url", None, [])
    assert list(record.meta) == ["exif"] and record.meta["exif"]["make"] == "Canon"
    assert before <= record.ingested_at <= after
    assert record.embedding is embedding


def test_a_known_record_keeps_what_was_learned_and_takes_the_decoded_facts() -> None:
    data = jpeg_with_exif(orientation=6)
    known = ImageRecord(
        id="b" * 64,
        width=1,
        height=1,
        bytes=1,
        format="PNG",
        filename="holiday.jpg",
        ingested_at=1_700_000_000_000,
        meta={"exif": {}},
        source="camera",
        camera_id="porch",
        tags=["cat"],
    )

    record = record_of(
        "b" * 64,
        decode_image(data, MAX_PIXELS),
        size=len(data),
        filename="b" * 64,
        source="upload",
        known=known,
    )

    assert (record.filename, record.ingested_at) == ("holiday.jpg", 1_700_000_000_000)
    assert (record.meta, record.source, record.camera_id) == ({"exif": {}}, "camera", "porch")
    assert record.tags == ["cat"] and record.tags is not known.tags
    assert (record.width, record.height, record.bytes, record.format) == (48, 64, len(data), "JPEG")
    assert record.embedding is None
