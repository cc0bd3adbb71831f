"""A library made before the catalog existed survives the upgrade, on real parts.

The first versions kept every image's metadata only in Milvus, in a collection without the typed
source and tags fields, beside the bytes in MinIO. This builds exactly that state (the schema and
rows those versions wrote), then starts the current worker on an empty catalog: every image must
be catalogued with what it had, the index must be copied into the current schema (no image
re-embedded), and the whole library must verify clean and filter by tag.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from shared.domain import image_id_of, original_key, thumb_key
from shared.embedding import TINY_CHECKPOINT, TINY_MODEL, weights_id
from shared.imaging import make_thumbnail
from shared.vector_schema import DIM_PROPERTY, MODEL_PROPERTY, image_index
from tests.support.images import encode, picture
from tests.support.stack import Stack

DIM = 128  # the tiny model's embedding size
IMAGES = 6


def _v1_schema() -> Any:
    """The collection schema the first versions created (no source, camera_id, tags)."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=DIM)
    for name in ("width", "height", "bytes", "ingested_at"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("format", DataType.VARCHAR, max_length=16)
    schema.add_field("filename", DataType.VARCHAR, max_length=1024)
    schema.add_field("meta", DataType.JSON)
    return schema


def _old_library(stack: Stack) -> list[dict[str, Any]]:
    objects = stack.objects()
    objects.ensure_bucket()
    rng = np.random.default_rng(7)
    rows = []
    for n in range(IMAGES):
        image = picture(50 + n, 40, (30 * n, 200, 90))
        data = encode(image, "PNG")
        image_id = image_id_of(data)
        objects.put(original_key(image_id), data, "image/png")
        objects.put(thumb_key(image_id), make_thumbnail(image), "image/webp")
        vector = rng.normal(size=DIM).astype(np.float32)
        rows.append(
            {
                "id": image_id,
                "embedding": (vector / np.linalg.norm(vector)).tolist(),
                "width": 50 + n,
                "height": 40,
                "bytes": len(data),
                "ingested_at": 1_700_000_000_000 + n,
                "format": "PNG",
                "filename": f"holiday-{n}.png",
                "meta": {"exif": {"make": "Acme"}, "source": "upload"},
            }
        )
    client = MilvusClient(uri=stack.servers.milvus_uri)
    collection = f"{stack.alias}_v1"
    client.create_collection(
        collection,
        schema=_v1_schema(),
        index_params=image_index(),
        properties={
            MODEL_PROPERTY: f"{TINY_MODEL}/{weights_id(str(TINY_CHECKPOINT))}",
            DIM_PROPERTY: str(DIM),
        },
    )
    client.upsert(collection, rows)
    client.flush(collection)
    client.create_alias(collection, stack.alias)
    client.close()
    return rows


@pytest.fixture(scope="module")
def upgraded(stack_factory: Any) -> Iterator[tuple[Stack, list[dict[str, Any]]]]:
    stack = stack_factory("legacy")
    rows = _old_library(stack)
    stack.start_worker()  # migrates the catalog, upgrades the index, catalogues the library
    stack.start_ingestapi()
    stack.start_searchapi()
    yield stack, rows
    stack.stop_all()


def test_every_image_is_catalogued_with_what_it_had(upgraded: tuple[Stack, list]) -> None:
    stack, rows = upgraded
    images = stack.images()
    assert images.count() == IMAGES
    for row in rows:
        record = images.get(row["id"])
        assert (record.filename, record.ingested_at, record.width, record.bytes) == (
            row["filename"],
            row["ingested_at"],
            row["width"],
            row["bytes"],
        )
        assert (record.source, record.tags, record.meta) == (
            "upload",
            [],
            {"exif": {"make": "Acme"}},
        )


def test_the_index_is_copied_into_the_current_schema(upgraded: tuple[Stack, list]) -> None:
    stack, rows = upgraded
    index = stack.index()
    collection = index.target()
    assert collection is not None and collection != f"{stack.alias}_v1"
    fields = {f["name"] for f in index.client.describe_collection(collection)["fields"]}
    assert {"source", "camera_id", "tags"} <= fields
    copied = {
        r.id: r
        for r in stack.vectors().get([r["id"] for r in rows], with_vectors=True, strong=True)
    }
    assert set(copied) == {r["id"] for r in rows}
    for row in rows:  # the very vectors, not new embeddings
        assert np.allclose(copied[row["id"]].embedding, row["embedding"], atol=1e-6)


def test_the_upgraded_library_verifies_clean_and_takes_tags(upgraded: tuple[Stack, list]) -> None:
    stack, rows = upgraded
    with httpx.Client(timeout=60, headers=stack.auth_headers()) as client:
        report = client.post(f"{stack.urls['ingestapi']}/api/v1/admin/verify", json={}).json()
        assert (report["problems"], report["counts"]["catalog"]) == ([], IMAGES)
        listing = client.get(f"{stack.urls['searchapi']}/api/v1/image").json()
        assert listing["total"] == IMAGES
        target = rows[2]["id"]
        client.put(f"{stack.urls['searchapi']}/api/v1/image/{target}/tags", json={"tags": ["kept"]})
        tagged = client.get(f"{stack.urls['searchapi']}/api/v1/image", params={"tag": "kept"})
        assert [image["id"] for image in tagged.json()["results"]] == [target]
