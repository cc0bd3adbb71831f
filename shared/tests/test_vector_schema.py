"""What goes into Milvus: filter expressions from search filters, rows from records and back."""

from dataclasses import replace

import numpy as np
import pytest

from shared.domain import ImageRecord, SearchFilters
from shared.vector_schema import (
    ModelIdentity,
    collection_name_for,
    filter_expression,
    from_row,
    to_row,
)

RECORD = ImageRecord(
    id="c" * 64,
    width=640,
    height=480,
    bytes=1234,
    format="PNG",
    filename="a.png",
    ingested_at=1_700_000_000_000,
    meta={"exif": {"make": "Acme"}},
    embedding=np.array([0.5, 0.25], dtype=np.float64),
    source="camera",
    camera_id="cam-1",
    tags=["door", "night"],
)


def test_no_filters_is_an_empty_expression() -> None:
    assert filter_expression(SearchFilters()) == ""


def test_every_filter_becomes_a_clause_on_its_typed_field() -> None:
    filters = SearchFilters(
        formats=("PNG", "JPEG"),
        min_width=100,
        min_height=200,
        ingested_after=1000,
        ingested_before=2000,
    )
    assert filter_expression(filters) == (
        'format in ["PNG", "JPEG"] and width >= 100 and height >= 200 '
        "and ingested_at >= 1000 and ingested_at < 2000"
    )


def test_an_unknown_format_is_refused_not_quoted_into_the_expression() -> None:
    with pytest.raises(ValueError, match="unknown formats"):
        filter_expression(SearchFilters(formats=('PNG"] or id != ["',)))


def test_a_record_round_trips_through_a_row_as_float32() -> None:
    back = from_row(to_row(RECORD))
    assert back.embedding is not None and back.embedding.dtype == np.float32
    assert back.embedding.tolist() == [0.5, 0.25]
    assert replace(back, embedding=None) == replace(RECORD, embedding=None)


def test_a_camera_frame_keeps_its_capture_time_out_of_the_meta_it_answers() -> None:
    frame = replace(RECORD, captured_at=1_700_000_000_123)
    row = to_row(frame)
    assert row["meta"] == {"exif": {"make": "Acme"}, "captured_at": 1_700_000_000_123}
    back = from_row(row)
    assert (back.captured_at, back.meta) == (1_700_000_000_123, {"exif": {"make": "Acme"}})
    assert to_row(RECORD)["meta"] == {"exif": {"make": "Acme"}}  # no time, no key


def test_a_row_of_a_collection_before_typed_source_and_tags_reads_back() -> None:
    """Collections made before v2 kept the source inside ``meta`` and had no tags."""
    row = to_row(RECORD)
    for name in ("source", "camera_id", "tags"):
        del row[name]
    row["meta"] = {"exif": {}, "source": "url"}
    back = from_row(row)
    assert (back.source, back.camera_id, back.tags, back.meta) == ("url", None, [], {"exif": {}})
    row["meta"] = {"source": "reindex"}
    assert from_row(row).source == "upload"


def test_tag_source_and_camera_filters_are_typed_clauses() -> None:
    filters = SearchFilters(tags=("cat", "red car"), source="camera", camera_id="cam-1")
    assert filter_expression(filters) == (
        'array_contains(tags, "cat") and array_contains(tags, "red car") and '
        'source == "camera" and camera_id == "cam-1"'
    )


def test_a_record_without_embedding_cannot_become_a_row() -> None:
    with pytest.raises(ValueError, match="no embedding"):
        to_row(replace(RECORD, embedding=None))


def test_collection_names_are_unique_and_say_alias_and_model() -> None:
    model = ModelIdentity(name="ViT-B-32", weights="laion2b_s34b_b79k", dim=512)
    first, second = collection_name_for("images", model), collection_name_for("images", model)
    assert first != second
    assert first.startswith("images_vit_b_32_laion2b_s34b_b79k_")
