"""The duplicates routes in-process, through ``create_app()``: the catalog is the real one on a
SQLite file, the index and model fakes (these routes use neither). What a client sees: the
bodies, the default distance from settings, ``/duplicates`` not taken for an image id, and the
problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.config import DuplicateOptions, SearchSettings
from searchapi.main import create_app
from shared.catalog.images import ImageCatalog
from shared.domain import ImageRecord
from tests.support.fake_model import FakeEmbedder
from tests.support.fakes import FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import sqlite_catalog

DEFAULT_DISTANCE = 3
SETTINGS = SearchSettings(
    duplicates=DuplicateOptions(max_distance=DEFAULT_DISTANCE),
    auth=TEST_AUTH,
    rate_limit=IN_MEMORY_LIMITS,
)
BIG = ImageRecord("a" * 64, 400, 300, 9_000, "PNG", "big.png", 1, phash="00000000000000ff")
SMALL = ImageRecord("b" * 64, 200, 150, 3_000, "JPEG", "small.jpg", 2, phash="00000000000000fc")
FAR = ImageRecord("c" * 64, 200, 150, 3_000, "JPEG", "far.jpg", 3, phash="000000000000ffff")
UNHASHED = ImageRecord("d" * 64, 10, 10, 10, "PNG", "old.png", 4)
GROUPS = "/api/v1/image/duplicates"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    catalog = sqlite_catalog(tmp_path)
    ImageCatalog(catalog).add([BIG, SMALL, FAR, UNHASHED])
    app = create_app(SETTINGS.model_copy(update={"database": catalog.settings}))
    container = app.state.container
    container.embedder.override(providers.Object(FakeEmbedder()))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.vectors.override(providers.Object(FakeVectorStore()))
    container.catalog.override(providers.Object(catalog))
    with TestClient(app, raise_server_exceptions=False) as client:
        grant(client, catalog)
        yield client


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:imagesearch:problem:{code}"


def test_groups_list_images_with_their_distance_the_largest_first(client: TestClient) -> None:
    body = client.get(GROUPS).json()
    assert body["max_distance"] == DEFAULT_DISTANCE and body["next_cursor"] is None
    [group] = body["groups"]
    assert [(i["filename"], i["distance"]) for i in group["images"]] == [
        ("big.png", 0),
        ("small.jpg", 2),
    ]
    assert group["images"][0]["thumb_url"] == f"/images/{BIG.id}/thumb"


def test_a_wider_distance_asked_for_gathers_more(client: TestClient) -> None:
    body = client.get(GROUPS, params={"max_distance": 8}).json()
    assert [[i["id"] for i in g["images"]] for g in body["groups"]] == [[BIG.id, SMALL.id, FAR.id]]


def test_one_images_duplicates_leave_it_out(client: TestClient) -> None:
    body = client.get(f"/api/v1/image/{SMALL.id}/duplicates").json()
    assert (body["image_id"], body["max_distance"]) == (SMALL.id, DEFAULT_DISTANCE)
    assert [(i["id"], i["distance"]) for i in body["duplicates"]] == [(BIG.id, 2)]


@pytest.mark.parametrize("distance", ["-1", "17", "x"])
def test_a_distance_outside_0_to_16_is_a_422(client: TestClient, distance: str) -> None:
    problem(client.get(GROUPS, params={"max_distance": distance}), 422, "validation")


def test_an_image_without_a_hash_is_a_409_and_an_unknown_one_a_404(client: TestClient) -> None:
    problem(client.get(f"/api/v1/image/{UNHASHED.id}/duplicates"), 409, "conflict")
    problem(client.get(f"/api/v1/image/{'e' * 64}/duplicates"), 404, "image-not-found")


def test_a_foreign_cursor_is_a_400(client: TestClient) -> None:
    problem(client.get(GROUPS, params={"cursor": "bm90LW91cnM"}), 400, "invalid-input")
