"""What a Milvus image collection looks like: schema, index, rows, filters, model identity."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymilvus import CollectionSchema, DataType, MilvusClient
from pymilvus.milvus_client.index import IndexParams

from shared.domain import ImageRecord, SearchFilters
from shared.imaging import MIME_TYPES

MODEL_PROPERTY = "imagesearch.model"
DIM_PROPERTY = "imagesearch.dim"
V1_FIELDS = ["id", "width", "height", "bytes", "ingested_at", "format", "filename", "meta"]
# Collections made before these typed fields existed hold them (at most) inside ``meta``.
SCALARS_SINCE_V2 = ("source", "camera_id", "tags")
CAPTURED_AT = "captured_at"  # a key of ``meta`` in the index row
FIELDS = [*V1_FIELDS, *SCALARS_SINCE_V2]


@dataclass(frozen=True)
class ModelIdentity:
    """Which model made a set of vectors: architecture, weights (tag or file digest), dimension."""

    name: str
    weights: str
    dim: int

    @property
    def key(self) -> str:
        return f"{self.name}/{self.weights}"


def image_schema(dim: int) -> CollectionSchema:
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=dim)
    for name in ("width", "height", "bytes", "ingested_at"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("format", DataType.VARCHAR, max_length=16)
    schema.add_field("filename", DataType.VARCHAR, max_length=1024)
    schema.add_field("meta", DataType.JSON)
    schema.add_field("source", DataType.VARCHAR, max_length=16)
    schema.add_field("camera_id", DataType.VARCHAR, max_length=64)
    schema.add_field(
        "tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=32, max_length=64
    )
    return schema


def image_index() -> IndexParams:
    index = MilvusClient.prepare_index_params()
    index.add_index(
        field_name="embedding",
        index_type="HNSW",
        metric_type="COSINE",
        params={"M": 16, "efConstruction": 200},
    )
    return index


def filter_expression(filters: SearchFilters) -> str:
    """A Milvus boolean expression over typed scalar fields. Inputs are validated, not quoted."""
    clauses = []
    if filters.formats:
        unknown = [f for f in filters.formats if f not in MIME_TYPES]
        if unknown:
            raise ValueError(f"unknown formats {unknown}")
        clauses.append("format in [" + ", ".join(f'"{f}"' for f in filters.formats) + "]")
    for field_name, op, value in (
        ("width", ">=", filters.min_width),
        ("height", ">=", filters.min_height),
        ("ingested_at", ">=", filters.ingested_after),
        ("ingested_at", "<", filters.ingested_before),
    ):
        if value is not None:
            clauses.append(f"{field_name} {op} {int(value)}")
    # Tags, sources and camera ids are checked where they enter (no quotes or backslashes).
    clauses += [f'array_contains(tags, "{tag}")' for tag in filters.tags]
    for field_name, text in (("source", filters.source), ("camera_id", filters.camera_id)):
        if text is not None:
            clauses.append(f'{field_name} == "{text}"')
    return " and ".join(clauses)


def collection_name_for(alias: str, model: ModelIdentity) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", model.key).strip("_").lower()[:80]
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return f"{alias}_{slug}_{stamp}_{secrets.token_hex(3)}"  # unique even within a second


def to_row(record: ImageRecord) -> dict[str, Any]:
    if record.embedding is None:
        raise ValueError(f"record {record.id} has no embedding")
    return {
        "id": record.id,
        "embedding": record.embedding.astype(np.float32).tolist(),
        "width": record.width,
        "height": record.height,
        "bytes": record.bytes,
        "ingested_at": record.ingested_at,
        "format": record.format,
        "filename": record.filename[:1024],
        "meta": _with_capture_time(record),
        "source": record.source,
        "camera_id": record.camera_id or "",
        "tags": list(record.tags),
    }


def from_row(row: dict[str, Any]) -> ImageRecord:
    embedding = row.get("embedding")
    meta = dict(row.get("meta") or {})
    legacy_source = meta.pop("source", None)  # where collections before v2 kept it
    captured_at = meta.pop(CAPTURED_AT, None)
    source = row.get("source") or legacy_source
    return ImageRecord(
        id=row["id"],
        width=int(row["width"]),
        height=int(row["height"]),
        bytes=int(row["bytes"]),
        ingested_at=int(row["ingested_at"]),
        format=row["format"],
        filename=row["filename"],
        meta=meta,
        embedding=np.asarray(embedding, dtype=np.float32) if embedding is not None else None,
        source=source if source in ("upload", "url", "camera") else "upload",
        camera_id=row.get("camera_id") or None,
        tags=list(row.get("tags") or []),
        captured_at=int(captured_at) if captured_at is not None else None,
    )


def _with_capture_time(record: ImageRecord) -> dict[str, Any]:
    """A camera frame's capture time rides in ``meta`` (no typed field: nothing filters on it),
    so search hits carry it as listings do; ``from_row`` takes it out again."""
    if record.captured_at is None:
        return record.meta
    return {**record.meta, CAPTURED_AT: record.captured_at}
