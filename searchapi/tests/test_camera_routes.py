"""Cameras as filters, in-process through ``create_app()`` (the catalog real on SQLite, the index
and model fakes): ``/api/v1/image/cameras`` names the cameras the library's images came from, and
``camera_id`` narrows the library and text search alike, with or without a tag."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.config import SearchSettings
from searchapi.main import create_app
from shared.catalog.images import ImageCatalog
from shared.catalog.models import CameraRow
from shared.identity.roles import Role
from tests.support.fake_model import FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import sqlite_catalog

SETTINGS = SearchSettings(auth=TEST_AUTH, rate_limit=IN_MEMORY_LIMITS)
PORCH, GONE = "3f1c0c6e-0000-4000-8000-000000000001", "3f1c0c6e-0000-4000-8000-000000000002"
PORCH_RED = indexed_picture(
    "red", ingested_at=1_000, source="camera", camera_id=PORCH, tags=["night"]
)
PORCH_BLUE = replace(
    indexed_picture("blue", ingested_at=2_000, source="camera", camera_id=PORCH),
    captured_at=1_999,
)
GONE_RED = indexed_picture("red", width=80, ingested_at=3_000, source="camera", camera_id=GONE)
UPLOAD_RED = indexed_picture("red", width=90, ingested_at=4_000, tags=["night"])
LIBRARY = [PORCH_RED, PORCH_BLUE, GONE_RED, UPLOAD_RED]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    catalog = sqlite_catalog(tmp_path)
    ImageCatalog(catalog).add(LIBRARY)
    with catalog.session() as session:
        session.add(
            CameraRow(
                id=PORCH,
                name="Porch",
                rtsp_url="rtsp://viewer:s3cret@127.0.0.1:8554/porch",
                defaults={},
                created_by="admin",
                created_at=1,
                updated_at=1,
            )
        )
    app = create_app(SETTINGS.model_copy(update={"database": catalog.settings}))
    vectors = FakeVectorStore()
    vectors.upsert(LIBRARY)
    container = app.state.container
    container.embedder.override(providers.Object(FakeEmbedder()))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.vectors.override(providers.Object(vectors))
    container.catalog.override(providers.Object(catalog))
    with TestClient(app, raise_server_exceptions=False) as client:
        grant(client, catalog, Role.VIEWER)
        yield client


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["results"]}


def test_cameras_name_each_camera_with_its_images_and_a_deleted_one_without_a_name(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/image/cameras")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "cameras": [
            {"camera_id": PORCH, "name": "Porch", "images": 2},
            {"camera_id": GONE, "name": None, "images": 1},
        ]
    }
    assert "s3cret" not in response.text and "rtsp" not in response.text


@pytest.mark.parametrize(
    ("params", "kept"),
    [
        ({"camera_id": PORCH}, {PORCH_RED.id, PORCH_BLUE.id}),
        ({"camera_id": GONE}, {GONE_RED.id}),
        ({"camera_id": PORCH, "tag": "night"}, {PORCH_RED.id}),
        ({"tag": "night"}, {PORCH_RED.id, UPLOAD_RED.id}),
        ({"camera_id": "elsewhere"}, set()),
    ],
    ids=["camera", "deleted-camera", "camera-and-tag", "tag", "unknown-camera"],
)
def test_camera_and_tag_narrow_the_library_and_text_search_alike(
    client: TestClient, params: dict[str, str], kept: set[str]
) -> None:
    listed = client.get("/api/v1/image", params=params)
    assert ids(listed) == kept and listed.json()["total"] == len(kept)
    assert ids(client.get("/api/v1/image/search", params={"text": "red", **params})) == kept


@pytest.mark.parametrize("path", ["/api/v1/image", "/api/v1/image/search?text=red"])
def test_a_malformed_camera_id_is_refused(client: TestClient, path: str) -> None:
    response = client.get(path, params={"camera_id": 'x" or true'})
    assert response.status_code == 422, response.text


def test_every_answer_says_where_an_image_came_from(client: TestClient) -> None:
    known = {r.id: (r.source, r.camera_id, r.captured_at) for r in LIBRARY}
    answers = {
        "list": client.get("/api/v1/image").json()["results"],
        "search": client.get("/api/v1/image/search?text=red").json()["results"],
        "similar": client.get(f"/api/v1/image/{PORCH_RED.id}/similar").json()["results"],
        "one": [client.get(f"/api/v1/image/{PORCH_BLUE.id}").json()],
    }
    for where, hits in answers.items():
        assert any(hit["captured_at"] for hit in hits), where
        assert all(
            (h["source"], h["camera_id"], h["captured_at"]) == known[h["id"]] for h in hits
        ), where
