"""searchapi in-process: every route through ``create_app()``, the stores and model faked.

The container's embedder, index and vector store are replaced by the fakes of our ports before the
first request; everything else (routes, dependencies, the search service, the problem mapping, the
lifespan) is the real thing. Four pictures are indexed, each told apart by a different filter.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.config import SearchOptions, SearchSettings
from searchapi.main import create_app
from shared.config import ImageLimits
from shared.embedding import TINY_MODEL
from shared.uploads import PART_OVERHEAD
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorIndex, FakeVectorStore
from tests.support.images import encode, noise, picture, png_bomb_header

# MAX_LIMIT is the default page size: a smaller cap would refuse every request without a limit.
MAX_LIMIT, MAX_OFFSET, MAX_BYTES, MAX_PIXELS = 20, 50, 50_000, 40_000
SETTINGS = SearchSettings(
    search=SearchOptions(max_limit=MAX_LIMIT, max_offset=MAX_OFFSET, startup_deadline_s=1),
    limits=ImageLimits(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS),
)
# Two red pictures and two others; each filter below keeps a different subset.
RED_SQUARE = indexed_picture("red", format="PNG", width=64, height=64, ingested_at=1_000)
RED_WIDE = indexed_picture("red", format="JPEG", width=200, height=50, ingested_at=2_000)
BLUE = indexed_picture("blue", format="PNG", width=64, height=64, ingested_at=3_000)
GREEN_TALL = indexed_picture("green", format="JPEG", width=50, height=200, ingested_at=4_000)
LIBRARY = [RED_SQUARE, RED_WIDE, BLUE, GREEN_TALL]
SEARCH = "/api/v1/image/search"


@dataclass
class Served:
    client: TestClient
    vectors: FakeVectorStore
    index: FakeVectorIndex


@contextmanager
def serve(embedder: FakeEmbedder) -> Iterator[Served]:
    app = create_app(SETTINGS)
    vectors, index = FakeVectorStore(), FakeVectorIndex()
    vectors.upsert(LIBRARY)
    container = app.state.container
    container.embedder.override(providers.Object(embedder))
    container.index.override(providers.Object(index))
    container.vectors.override(providers.Object(vectors))
    # A 500 must come back as a response, as a client sees it, not as the exception.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Served(client, vectors, index)


@pytest.fixture
def api() -> Iterator[Served]:
    with serve(FakeEmbedder()) as served:
        yield served


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["results"]]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"]) == (f"urn:imagesearch:problem:{code}", status)
    return body


def test_search_orders_hits_by_score_and_names_the_model(api: Served) -> None:
    response = api.client.get(SEARCH, params={"text": " red ", "limit": 10})
    body = response.json()
    scores = [hit["score"] for hit in body["results"]]
    assert set(ids(response)[:2]) == {RED_SQUARE.id, RED_WIDE.id}
    assert len(scores) == len(LIBRARY) and scores == sorted(scores, reverse=True)
    assert scores[1] > scores[2]
    assert (body["query"], body["limit"], body["offset"]) == ("red", 10, 0)
    assert body["model"] == {"name": "fake-colours", "weights": "v1", "demo": False}


def test_search_with_the_tiny_model_says_demo() -> None:
    with serve(FakeEmbedder(name=TINY_MODEL)) as served:
        assert served.client.get(SEARCH, params={"text": "red"}).json()["model"]["demo"] is True


def test_search_pages_through_the_ranking(api: Served) -> None:
    everything = ids(api.client.get(SEARCH, params={"text": "red"}))
    page = ids(api.client.get(SEARCH, params={"text": "red", "limit": 2, "offset": 1}))
    assert page == everything[1:3]


@pytest.mark.parametrize(
    ("params", "kept"),
    [
        ({"format": "JPEG"}, {RED_WIDE.id, GREEN_TALL.id}),
        ({"format": ["png", "jpg"]}, {r.id for r in LIBRARY}),
        ({"format": "jpg"}, {RED_WIDE.id, GREEN_TALL.id}),
        ({"min_width": 100}, {RED_WIDE.id}),
        ({"min_height": 100}, {GREEN_TALL.id}),
        ({"after": 2_000}, {RED_WIDE.id, BLUE.id, GREEN_TALL.id}),
        ({"before": 3_000}, {RED_SQUARE.id, RED_WIDE.id}),
        ({"after": 2_000, "before": 4_000}, {RED_WIDE.id, BLUE.id}),
    ],
)
def test_search_filters_restrict_the_hits(
    api: Served, params: dict[str, Any], kept: set[str]
) -> None:
    assert set(ids(api.client.get(SEARCH, params={"text": "red", **params}))) == kept


def test_search_min_score_drops_weak_hits(api: Served) -> None:
    response = api.client.get(SEARCH, params={"text": "red", "min_score": 0.9})
    assert set(ids(response)) == {RED_SQUARE.id, RED_WIDE.id}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"text": "red", "limit": MAX_LIMIT + 1}, 400, "invalid-input"),
        ({"text": "red", "offset": MAX_OFFSET + 1}, 400, "invalid-input"),
        ({"text": "red", "format": "SVG"}, 400, "invalid-input"),
        ({"text": "   "}, 400, "invalid-input"),
        ({"text": ""}, 422, "validation"),
        ({}, 422, "validation"),
        ({"text": "red", "min_score": 2}, 422, "validation"),
    ],
)
def test_search_refuses_bad_queries(
    api: Served, params: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(api.client.get(SEARCH, params=params), status, code)


def test_search_by_image_ranks_the_same_colour_first(api: Served) -> None:
    upload = encode(picture(64, 64, PALETTE["blue"]), "PNG")
    response = api.client.post(SEARCH, files={"file": ("q.png", upload, "image/png")})
    assert ids(response)[0] == BLUE.id
    assert response.json()["query"] is None


def oversized() -> bytes:
    """Over the per-file cap but under the whole-request cap: the file's own check must refuse."""
    data = encode(noise(140, 140), "PNG")
    assert MAX_BYTES < len(data) < MAX_BYTES + PART_OVERHEAD
    return data


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"json": {"file": "red.png"}}, 400, "invalid-input"),
        ({"files": {"other": ("q.png", b"x", "image/png")}}, 400, "invalid-input"),
        ({"files": {"file": ("big.png", oversized(), "image/png")}}, 413, "file-too-large"),
        ({"files": {"file": ("q.png", b"not a picture")}}, 415, "unsupported-media-type"),
        ({"files": {"file": ("q.png", png_bomb_header(300, 300))}}, 422, "image-too-large"),
    ],
    ids=["not-multipart", "no-file-part", "too-large", "not-an-image", "too-many-pixels"],
)
def test_search_by_image_refuses_bad_uploads(
    api: Served, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(api.client.post(SEARCH, **request_kwargs), status, code)


def test_image_list_pages_in_id_order(api: Served) -> None:
    ordered = sorted(r.id for r in LIBRARY)
    first = api.client.get("/api/v1/image", params={"limit": 3})
    second = api.client.get("/api/v1/image", params={"limit": 3, "offset": 3})
    assert ids(first) + ids(second) == ordered


def test_image_by_id_describes_it(api: Served) -> None:
    body = api.client.get(f"/api/v1/image/{RED_WIDE.id}").json()
    assert body == {
        "id": RED_WIDE.id,
        "url": f"/images/{RED_WIDE.id}",
        "thumb_url": f"/images/{RED_WIDE.id}/thumb",
        "width": 200,
        "height": 50,
        "format": "JPEG",
        "filename": "red.jpeg",
        "bytes": RED_WIDE.bytes,
        "ingested_at": 2_000,
        "meta": {},
    }


@pytest.mark.parametrize("suffix", ["", "/similar"])
def test_image_routes_refuse_bad_and_unknown_ids(api: Served, suffix: str) -> None:
    assert_problem(api.client.get(f"/api/v1/image/NOT-AN-ID{suffix}"), 400, "invalid-input")
    assert_problem(api.client.get(f"/api/v1/image/{'0' * 64}{suffix}"), 404, "image-not-found")


def test_similar_excludes_the_image_itself(api: Served) -> None:
    found = ids(api.client.get(f"/api/v1/image/{RED_SQUARE.id}/similar"))
    assert found[0] == RED_WIDE.id
    assert RED_SQUARE.id not in found and len(found) == len(LIBRARY) - 1


@pytest.mark.parametrize(
    "path",
    [
        f"{SEARCH}?text=red",
        "/api/v1/image",
        f"/api/v1/image/{BLUE.id}",
        f"/api/v1/image/{BLUE.id}/similar",
    ],
    ids=["search", "list", "image", "similar"],
)
def test_vector_store_outage_answers_503(api: Served, path: str) -> None:
    api.vectors.outage()
    response = api.client.get(path)
    body = assert_problem(response, 503, "dependency-unavailable")
    assert response.headers["retry-after"] == "5"
    assert "vector database" in body["detail"]


def test_unexpected_error_answers_500_without_its_text(api: Served) -> None:
    api.vectors.fail_with(RuntimeError("secret at 10.1.2.3"))
    response = api.client.get(SEARCH, params={"text": "red"})
    assert_problem(response, 500, "internal")
    assert "secret" not in response.text and "10.1.2.3" not in response.text


def test_readyz_is_ready_with_the_index_open(api: Served) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"] == {"milvus": True, "model": True, "index_current": True}
    assert body["model"]["name"] == "fake-colours"


def test_readyz_names_milvus_when_it_is_down(api: Served) -> None:
    api.index.outage()
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"milvus": False, "model": True, "index_current": False}


def test_readyz_names_the_index_when_the_alias_moved(api: Served) -> None:
    api.index.aliased = "images_another_model"
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"milvus": True, "model": True, "index_current": False}
