"""Search on real parts with the trained tiny CLIP: relevance, not just shapes of responses."""

import httpx
import pytest

from shared.shapes import COLOURS, SHAPES
from tests.support.stack import Stack

from .conftest import Indexed

QUERIES = [(colour, shape) for colour in COLOURS for shape in SHAPES]


def _label(hit: dict) -> tuple[str, str]:
    colour, shape, _ = hit["filename"].split("-", 2)
    return colour, shape


def _search(client: httpx.Client, **params: object) -> dict:
    response = client.get("/api/v1/image/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_text_queries_find_the_right_shapes(search: httpx.Client, indexed: list[Indexed]) -> None:
    precisions = []
    for colour, shape in QUERIES:
        hits = _search(search, text=f"a {colour} {shape}", limit=3)["results"]
        precisions.append(sum(_label(h) == (colour, shape) for h in hits) / 3)
    mean = sum(precisions) / len(precisions)
    assert mean >= 0.8, f"mean precision@3 {mean:.2f} over {len(QUERIES)} queries: {precisions}"


def test_hits_carry_the_contract_fields(search: httpx.Client, indexed: list[Indexed]) -> None:
    body = _search(search, text="a red circle", limit=5)
    assert body["query"] == "a red circle"
    assert body["model"] == {
        "name": "tiny-shapes",
        "weights": body["model"]["weights"],
        "demo": True,
    }
    hit = body["results"][0]
    assert hit["url"] == f"/images/{hit['id']}" and hit["thumb_url"] == f"/images/{hit['id']}/thumb"
    assert {
        "score",
        "width",
        "height",
        "format",
        "filename",
        "bytes",
        "ingested_at",
        "meta",
    } <= hit.keys()
    assert hit["width"] == hit["height"] == 160


def test_scores_are_sorted_and_pages_do_not_overlap(
    search: httpx.Client, indexed: list[Indexed]
) -> None:
    pages = [
        _search(search, text="a blue star", limit=10, offset=o)["results"] for o in (0, 10, 20)
    ]
    ids = [h["id"] for page in pages for h in page]
    assert len(ids) == 30 and len(set(ids)) == 30
    scores = [h["score"] for page in pages for h in page]
    assert scores == sorted(scores, reverse=True)


def test_uploaded_copy_of_an_indexed_image_comes_first(
    search: httpx.Client, indexed: list[Indexed]
) -> None:
    target = indexed[5]
    response = search.post(
        "/api/v1/image/search", files={"file": ("q.png", target.data)}, params={"limit": 3}
    )
    assert response.status_code == 200, response.text
    top = response.json()["results"][0]
    assert top["id"] == target.image_id
    assert top["score"] >= 0.99


def test_similar_excludes_the_image_and_finds_its_class(
    search: httpx.Client, indexed: list[Indexed]
) -> None:
    target = indexed[7]
    hits = search.get(f"/api/v1/image/{target.image_id}/similar", params={"limit": 5}).json()[
        "results"
    ]
    assert target.image_id not in [h["id"] for h in hits]
    assert _label(hits[0]) == (target.spec.colour, target.spec.shape)


def test_format_filter_restricts_results(search: httpx.Client, indexed: list[Indexed]) -> None:
    hits = _search(search, text="a green square", limit=50, format="jpeg")["results"]
    assert hits and {h["format"] for h in hits} == {"JPEG"}
    assert len(hits) == sum(1 for i in indexed if i.format == "JPEG")


def test_size_and_time_filters_restrict_results(
    search: httpx.Client, indexed: list[Indexed]
) -> None:
    assert _search(search, text="a circle", min_width=161)["results"] == []
    assert len(_search(search, text="a circle", min_width=160, limit=100)["results"]) == len(
        indexed
    )
    newest = max(h["ingested_at"] for h in _search(search, text="a star", limit=100)["results"])
    assert _search(search, text="a star", after=newest + 1)["results"] == []
    assert _search(search, text="a star", before=newest + 1, limit=100)["results"]


def test_min_score_drops_weak_hits(search: httpx.Client, indexed: list[Indexed]) -> None:
    everything = _search(search, text="a red star", limit=100)["results"]
    cutoff = everything[len(everything) // 2]["score"]
    kept = _search(search, text="a red star", limit=100, min_score=cutoff)["results"]
    assert 0 < len(kept) < len(everything)
    assert all(h["score"] >= cutoff for h in kept)


def test_get_image_and_list(search: httpx.Client, indexed: list[Indexed]) -> None:
    target = indexed[0]
    body = search.get(f"/api/v1/image/{target.image_id}").json()
    assert (body["id"], body["format"], body["width"]) == (target.image_id, target.format, 160)
    pages = [
        search.get("/api/v1/image", params={"limit": 30, "offset": o}).json()["results"]
        for o in (0, 30, 60)
    ]
    ids = [r["id"] for page in pages for r in page]
    assert len(ids) == len(set(ids)) == len(indexed)


def test_repeated_query_is_served_from_the_text_cache(
    search: httpx.Client, indexed: list[Indexed]
) -> None:
    def hits() -> float:
        for line in search.get("/metrics").text.splitlines():
            if line.startswith('text_embedding_cache_total{result="hit"}'):
                return float(line.split()[-1])
        return 0.0

    _search(search, text="a purple   triangle")
    before = hits()
    _search(search, text="A purple triangle")
    assert hits() == before + 1


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/image/search", {"text": ""}, 422),
        ("/api/v1/image/search", {"text": "   "}, 400),
        ("/api/v1/image/search", {}, 422),
        ("/api/v1/image/search", {"text": "x", "limit": 0}, 422),
        ("/api/v1/image/search", {"text": "x", "limit": 1000}, 400),
        ("/api/v1/image/search", {"text": "x", "offset": -1}, 422),
        ("/api/v1/image/search", {"text": "x", "format": "PSD"}, 400),
        ("/api/v1/image/search", {"text": "x", "min_score": 2}, 422),
        ("/api/v1/image/search", {"text": "x" * 501}, 400),
        ("/api/v1/image/not-an-id", {}, 400),
        ("/api/v1/image/" + "0" * 64, {}, 404),
        ("/api/v1/image/" + "0" * 64 + "/similar", {}, 404),
    ],
)
def test_bad_parameters_are_problems(
    search: httpx.Client, path: str, params: dict, status: int
) -> None:
    response = search.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("filename", "data", "status"),
    [("notes.png", b"plain text", 415), ("empty.png", b"", 422)],
)
def test_search_by_bad_upload_is_a_problem(
    search: httpx.Client, filename: str, data: bytes, status: int
) -> None:
    response = search.post("/api/v1/image/search", files={"file": (filename, data)})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_ops_endpoints(search: httpx.Client, stack: Stack) -> None:
    ready = search.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"milvus": True, "model": True, "index_current": True}
    assert ready.json()["model"]["name"] == "tiny-shapes" and ready.json()["model"]["demo"] is True
    assert "search_stage_seconds" in search.get("/metrics").text
