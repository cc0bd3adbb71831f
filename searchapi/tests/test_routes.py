"""searchapi in-process: every route through ``create_app()``, the index and model faked.

The container's embedder, index and vector store are replaced by the fakes of our ports before the
first request, and its catalog is the real one on a SQLite file; everything else (routes,
dependencies, the services, the problem mapping, the lifespan) is the real thing. Four pictures
are indexed and catalogued, each told apart by a different filter.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.config import SearchOptions, SearchSettings
from searchapi.main import create_app
from shared.catalog.images import ImageCatalog
from shared.config import ImageLimits
from shared.embedding import TINY_MODEL
from shared.uploads import PART_OVERHEAD
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.images import encode, noise, picture, png_bomb_header
from tests.support.local_catalog import FailableCatalog, sqlite_catalog

# MAX_LIMIT is the default page size: a smaller cap would refuse every request without a limit.
MAX_LIMIT, MAX_OFFSET, MAX_BYTES, MAX_PIXELS = 20, 50, 50_000, 40_000
SETTINGS = SearchSettings(
    search=SearchOptions(max_limit=MAX_LIMIT, max_offset=MAX_OFFSET, startup_deadline_s=1),
    limits=ImageLimits(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS),
    auth=TEST_AUTH,
    rate_limit=IN_MEMORY_LIMITS,
)
# Two red pictures and two others; each filter below keeps a different subset.
RED_SQUARE = indexed_picture(
    "red", format="PNG", width=64, height=64, ingested_at=1_000, tags=["beach", "sea"]
)
RED_WIDE = indexed_picture(
    "red", format="JPEG", width=200, height=50, ingested_at=2_000, source="url", tags=["beach"]
)
BLUE = indexed_picture("blue", format="PNG", width=64, height=64, ingested_at=3_000)
GREEN_TALL = indexed_picture(
    "green",
    format="JPEG",
    width=50,
    height=200,
    ingested_at=4_000,
    source="camera",
    camera_id="porch",
)
LIBRARY = [RED_SQUARE, RED_WIDE, BLUE, GREEN_TALL]
SEARCH = "/api/v1/image/search"
IMAGES = "/api/v1/image"


@dataclass
class Served:
    client: TestClient
    vectors: FakeVectorStore
    index: FakeVectorIndex
    catalog: FailableCatalog


@contextmanager
def serve(embedder: FakeEmbedder, directory: Path) -> Iterator[Served]:
    catalog = sqlite_catalog(directory)
    ImageCatalog(catalog).add(LIBRARY)
    app = create_app(SETTINGS.model_copy(update={"database": catalog.settings}))
    vectors, index = FakeVectorStore(), FakeVectorIndex()
    vectors.upsert(LIBRARY)
    container = app.state.container
    container.embedder.override(providers.Object(embedder))
    container.index.override(providers.Object(index))
    container.vectors.override(providers.Object(vectors))
    container.catalog.override(providers.Object(catalog))
    # A 500 must come back as a response, as a client sees it, not as the exception.
    with TestClient(app, raise_server_exceptions=False) as client:
        grant(client, catalog)
        yield Served(client, vectors, index, catalog)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Served]:
    with serve(FakeEmbedder(), tmp_path) as served:
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


def test_search_with_the_tiny_model_says_demo(tmp_path: Path) -> None:
    with serve(FakeEmbedder(name=TINY_MODEL), tmp_path) as served:
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
        ({"tag": "Beach"}, {RED_SQUARE.id, RED_WIDE.id}),
        ({"tag": ["beach", "sea"]}, {RED_SQUARE.id}),
        ({"source": "url"}, {RED_WIDE.id}),
        ({"camera_id": "porch"}, {GREEN_TALL.id}),
        ({"source": "upload", "min_width": 60}, {RED_SQUARE.id, BLUE.id}),
    ],
)
def test_search_filters_restrict_the_hits(
    api: Served, params: dict[str, Any], kept: set[str]
) -> None:
    assert set(ids(api.client.get(SEARCH, params={"text": "red", **params}))) == kept


def test_search_answers_its_matches_first_then_weaker_hits(api: Served) -> None:
    body = api.client.get(SEARCH, params={"text": "red"}).json()
    assert body["matches"] == 2
    assert [hit["match"] for hit in body["results"]] == [True, True, False, False]
    assert {hit["id"] for hit in body["results"][:2]} == {RED_SQUARE.id, RED_WIDE.id}


def test_search_only_matches_leaves_the_weaker_hits_out(api: Served) -> None:
    response = api.client.get(SEARCH, params={"text": "red", "only_matches": "true"})
    assert set(ids(response)) == {RED_SQUARE.id, RED_WIDE.id}
    assert response.json()["matches"] == 2


def test_search_min_score_drops_weak_hits(api: Served) -> None:
    response = api.client.get(SEARCH, params={"text": "red", "min_score": 0.9})
    assert set(ids(response)) == {RED_SQUARE.id, RED_WIDE.id}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"text": "red", "limit": MAX_LIMIT + 1}, 400, "invalid-input"),
        ({"text": "red", "offset": MAX_OFFSET + 1}, 400, "invalid-input"),
        ({"text": "red", "format": "SVG"}, 400, "invalid-input"),
        ({"text": "red", "source": "fax"}, 400, "invalid-input"),
        ({"text": "red", "tag": 'say "cheese"'}, 400, "invalid-input"),
        ({"text": "red", "camera_id": "two words"}, 422, "validation"),
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


def test_library_pages_newest_first_with_the_total_and_a_cursor(api: Served) -> None:
    first = api.client.get(IMAGES, params={"limit": 3})
    body = first.json()
    assert (body["sort"], body["total"]) == ("newest", len(LIBRARY))
    rest = api.client.get(IMAGES, params={"limit": 3, "cursor": body["next_cursor"]})
    assert ids(first) + ids(rest) == [r.id for r in reversed(LIBRARY)]
    assert (rest.json()["total"], rest.json()["next_cursor"]) == (len(LIBRARY), None)


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        ({"sort": "oldest"}, LIBRARY),
        ({"sort": "name", "limit": 2}, [BLUE, GREEN_TALL]),  # blue.png, green.jpeg: first page
        ({"source": "url"}, [RED_WIDE]),
        ({"tag": "Beach"}, [RED_WIDE, RED_SQUARE]),
        ({"tag": "sea", "source": "camera"}, []),
    ],
)
def test_library_sorts_and_filters(api: Served, params: dict[str, Any], listed: list[Any]) -> None:
    response = api.client.get(IMAGES, params=params)
    assert ids(response) == [r.id for r in listed]
    if "limit" not in params:
        assert response.json()["total"] == len(listed)


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"sort": "random"}, 422, "validation"),
        ({"limit": 0}, 422, "validation"),
        ({"source": "fax"}, 400, "invalid-input"),
        ({"tag": "a\\b"}, 400, "invalid-input"),
        ({"cursor": "garbage"}, 400, "invalid-input"),
    ],
)
def test_library_refuses_bad_queries(
    api: Served, params: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(api.client.get(IMAGES, params=params), status, code)


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
        "source": "url",
        "camera_id": None,
        "captured_at": None,
        "tags": ["beach"],
        "meta": {"exif": {}},
    }


@pytest.mark.parametrize("suffix", ["", "/similar"])
def test_image_routes_refuse_bad_and_unknown_ids(api: Served, suffix: str) -> None:
    assert_problem(api.client.get(f"/api/v1/image/NOT-AN-ID{suffix}"), 400, "invalid-input")
    assert_problem(api.client.get(f"/api/v1/image/{'0' * 64}{suffix}"), 404, "image-not-found")


def test_similar_excludes_the_image_itself(api: Served) -> None:
    found = ids(api.client.get(f"/api/v1/image/{RED_SQUARE.id}/similar"))
    assert found[0] == RED_WIDE.id
    assert RED_SQUARE.id not in found and len(found) == len(LIBRARY) - 1


def test_similar_only_matches_keeps_the_look_alikes(api: Served) -> None:
    response = api.client.get(f"/api/v1/image/{RED_SQUARE.id}/similar?only_matches=true")
    assert (ids(response), response.json()["matches"]) == ([RED_WIDE.id], 1)


def test_tags_put_replaces_them_and_search_filters_on_them_at_once(api: Served) -> None:
    response = api.client.put(f"{IMAGES}/{BLUE.id}/tags", json={"tags": [" Harbour", "harbour"]})
    assert (response.status_code, response.json()) == (200, {"id": BLUE.id, "tags": ["harbour"]})
    assert ids(api.client.get(SEARCH, params={"text": "red", "tag": "harbour"})) == [BLUE.id]
    assert api.client.get(f"{IMAGES}/{BLUE.id}").json()["tags"] == ["harbour"]


def test_tags_patch_adds_and_removes(api: Served) -> None:
    change = {"add": ["Dusk"], "remove": ["sea"]}
    response = api.client.patch(f"{IMAGES}/{RED_SQUARE.id}/tags", json=change)
    assert response.json() == {"id": RED_SQUARE.id, "tags": ["beach", "dusk"]}
    assert ids(api.client.get(IMAGES, params={"tag": "dusk"})) == [RED_SQUARE.id]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("put", f"/{'0' * 64}/tags", {"tags": ["a"]}, 404, "image-not-found"),
        ("patch", f"/{'0' * 64}/tags", {"add": ["a"]}, 404, "image-not-found"),
        ("put", "/NOT-AN-ID/tags", {"tags": ["a"]}, 400, "invalid-input"),
        ("put", f"/{BLUE.id}/tags", {"tags": ["a\\b"]}, 400, "invalid-input"),
        ("patch", f"/{BLUE.id}/tags", {"add": ["x" * 65]}, 400, "invalid-input"),
        ("put", f"/{BLUE.id}/tags", {"tags": "a"}, 422, "validation"),
    ],
    ids=["put-unknown", "patch-unknown", "malformed-id", "bad-tag", "long-tag", "not-a-list"],
)
def test_tag_edits_refuse_unknown_images_and_bad_tags(
    api: Served, method: str, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(api.client.request(method, IMAGES + path, json=body), status, code)
    assert api.client.get(f"{IMAGES}/{BLUE.id}").json()["tags"] == []


@pytest.mark.parametrize(
    ("down", "method", "path"),
    [
        ("vectors", "get", f"{SEARCH}?text=red"),
        ("vectors", "get", f"{IMAGES}/{BLUE.id}/similar"),
        ("vectors", "put", f"{IMAGES}/{BLUE.id}/tags"),
        ("catalog", "get", IMAGES),
        ("catalog", "get", f"{IMAGES}/{BLUE.id}"),
        ("catalog", "put", f"{IMAGES}/{BLUE.id}/tags"),
    ],
    ids=["search", "similar", "tags-mirror", "library", "image", "tags"],
)
def test_an_outage_answers_503_naming_what_is_down(
    api: Served, down: str, method: str, path: str
) -> None:
    failing = api.vectors if down == "vectors" else api.catalog
    failing.outage()
    response = api.client.request(method, path, json={"tags": ["a"]} if method == "put" else None)
    body = assert_problem(response, 503, "dependency-unavailable")
    assert response.headers["retry-after"] == "5"
    assert failing.dependency in body["detail"]


def test_unexpected_error_answers_500_without_its_text(api: Served) -> None:
    api.vectors.fail_with(RuntimeError("secret at 10.1.2.3"))
    response = api.client.get(SEARCH, params={"text": "red"})
    assert_problem(response, 500, "internal")
    assert "secret" not in response.text and "10.1.2.3" not in response.text


def test_readyz_is_ready_with_the_index_open(api: Served) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    checks = {"catalog": True, "milvus": True, "model": True, "index_current": True}
    assert body["checks"] == checks
    assert body["model"]["name"] == "fake-colours"


def test_readyz_names_milvus_when_it_is_down(api: Served) -> None:
    api.index.outage()
    response = api.client.get("/readyz")
    assert response.status_code == 503
    checks = {"catalog": True, "milvus": False, "model": True, "index_current": False}
    assert response.json()["checks"] == checks


def test_readyz_names_the_index_when_the_alias_moved(api: Served) -> None:
    api.index.aliased = "images_another_model"
    response = api.client.get("/readyz")
    assert response.status_code == 503
    checks = {"catalog": True, "milvus": True, "model": True, "index_current": False}
    assert response.json()["checks"] == checks


def test_readyz_names_the_catalog_when_it_is_down(api: Served) -> None:
    api.catalog.outage()
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["catalog"] is False
