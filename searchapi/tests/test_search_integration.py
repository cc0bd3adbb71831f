"""Search on real parts with the trained tiny CLIP: relevance, not just shapes of responses."""

import httpx
import pytest

from imagesearch_samples.shapes import COLOURS, SHAPES
from tests.support.images import encode, noise, picture
from tests.support.stack import Stack

from .conftest import SEARCH_MAX_BYTES, SEARCH_MAX_PIXELS, Library

QUERIES = [(colour, shape) for colour in COLOURS for shape in SHAPES]
PROBLEM = "urn:imagesearch:problem:"
SEARCH = "/api/v1/image/search"


def _search(client: httpx.Client, **params: object) -> dict:
    response = client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(client: httpx.Client, **params: object) -> set[str]:
    return {hit["id"] for hit in _search(client, limit=100, **params)["results"]}


def test_text_queries_find_the_right_shapes(search: httpx.Client, library: Library) -> None:
    precisions = []
    for colour, shape in QUERIES:
        hits = _search(search, text=f"a {colour} {shape}", limit=3)["results"]
        precisions.append(sum(library.label(h["id"]) == (colour, shape) for h in hits) / 3)
    mean = sum(precisions) / len(precisions)
    assert mean >= 0.8, f"mean precision@3 {mean:.2f} over {len(QUERIES)} queries: {precisions}"


def test_hits_carry_the_contract_fields(search: httpx.Client, library: Library) -> None:
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
    sent = next(p for p in library.pictures if p.image_id == hit["id"])
    assert (hit["width"], hit["height"], hit["format"], hit["bytes"]) == (
        sent.width,
        sent.height,
        sent.format,
        len(sent.data),
    )


def test_pages_slice_one_ranking_of_matches_then_a_page_of_weaker_hits(
    search: httpx.Client, library: Library
) -> None:
    pages = [_search(search, text="a blue star", limit=4, offset=o) for o in range(0, 40, 4)]
    matches = pages[0]["matches"]
    hits = [hit for page in pages for hit in page["results"]]
    assert matches >= 1 and {page["matches"] for page in pages} == {matches}
    assert [hit["match"] for hit in hits] == [True] * matches + [False] * 4
    assert len({hit["id"] for hit in hits}) == len(hits)
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_uploaded_copy_of_an_indexed_image_comes_first(
    search: httpx.Client, library: Library
) -> None:
    target = library.first[5]
    response = search.post(SEARCH, files={"file": ("q.png", target.data)}, params={"limit": 3})
    assert response.status_code == 200, response.text
    top = response.json()["results"][0]
    assert top["id"] == target.image_id
    assert top["score"] >= 0.99


def test_similar_excludes_the_image_and_finds_its_class(
    search: httpx.Client, library: Library
) -> None:
    target = library.first[7]
    hits = search.get(f"/api/v1/image/{target.image_id}/similar", params={"limit": 5}).json()[
        "results"
    ]
    assert target.image_id not in [h["id"] for h in hits]
    assert library.label(hits[0]["id"]) == (target.spec.colour, target.spec.shape)


def test_format_filter_restricts_results(search: httpx.Client, library: Library) -> None:
    jpegs = library.ids([p for p in library.pictures if p.format == "JPEG"])
    assert _ids(search, text="a green square", format="jpeg") == jpegs


def test_min_height_keeps_tall_enough_pictures_whatever_their_width(
    search: httpx.Client, library: Library
) -> None:
    # The wide pictures are 240 px wide, 120 px high: a width check would let them through.
    assert _ids(search, text="a circle", min_height=140) == library.ids(library.first)
    assert _ids(search, text="a circle", min_height=120) == library.ids(library.pictures)
    assert _ids(search, text="a circle", min_height=161) == set()


def test_min_width_keeps_wide_enough_pictures_whatever_their_height(
    search: httpx.Client, library: Library
) -> None:
    assert _ids(search, text="a circle", min_width=200) == library.ids(library.second)
    assert _ids(search, text="a circle", min_width=160) == library.ids(library.pictures)


def test_before_keeps_only_pictures_ingested_earlier(
    search: httpx.Client, library: Library
) -> None:
    assert _ids(search, text="a star", before=library.split_ms) == library.ids(library.first)


def test_after_keeps_only_pictures_ingested_since(search: httpx.Client, library: Library) -> None:
    assert _ids(search, text="a star", after=library.split_ms) == library.ids(library.second)


def test_time_and_size_filters_combine(search: httpx.Client, library: Library) -> None:
    assert _ids(search, text="a star", before=library.split_ms, min_width=200) == set()
    assert _ids(search, text="a star", after=library.split_ms, min_height=120) == library.ids(
        library.second
    )


def test_min_score_drops_weak_hits(search: httpx.Client, library: Library) -> None:
    everything = _search(search, text="a red star", limit=100)["results"]
    cutoff = everything[len(everything) // 2]["score"]
    kept = _search(search, text="a red star", limit=100, min_score=cutoff)["results"]
    assert 0 < len(kept) < len(everything)
    assert all(h["score"] >= cutoff for h in kept)


def test_get_image_and_list(search: httpx.Client, library: Library) -> None:
    target = library.first[0]
    body = search.get(f"/api/v1/image/{target.image_id}").json()
    assert (body["id"], body["format"], body["width"]) == (target.image_id, target.format, 160)
    ids: list[str] = []
    cursor = None
    while True:
        page = search.get("/api/v1/image", params={"limit": 30, "cursor": cursor}).json()
        assert page["total"] == len(library.pictures)
        ids += [r["id"] for r in page["results"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert len(ids) == len(set(ids)) and set(ids) == library.ids(library.pictures)


def test_repeated_query_is_served_from_the_text_cache(
    search: httpx.Client, library: Library
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


UNKNOWN_ID = "0" * 64


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        (SEARCH, {"text": ""}, 422, "validation"),
        (SEARCH, {"text": "   "}, 400, "invalid-input"),
        (SEARCH, {}, 422, "validation"),
        (SEARCH, {"text": "x", "limit": 0}, 422, "validation"),
        (SEARCH, {"text": "x", "limit": 1000}, 400, "invalid-input"),
        (SEARCH, {"text": "x", "offset": -1}, 422, "validation"),
        (SEARCH, {"text": "x", "format": "PSD"}, 400, "invalid-input"),
        (SEARCH, {"text": "x", "min_score": 2}, 422, "validation"),
        (SEARCH, {"text": "x", "min_height": 0}, 422, "validation"),
        (SEARCH, {"text": "x", "before": -1}, 422, "validation"),
        (SEARCH, {"text": "x" * 501}, 400, "invalid-input"),
        ("/api/v1/image/not-an-id", {}, 400, "invalid-input"),
        (f"/api/v1/image/{UNKNOWN_ID}", {}, 404, "image-not-found"),
        (f"/api/v1/image/{UNKNOWN_ID}/similar", {}, 404, "image-not-found"),
    ],
)
def test_bad_parameters_are_problems(
    search: httpx.Client, path: str, params: dict, status: int, code: str
) -> None:
    response = search.get(path, params=params)
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.status_code, response.json()["type"]) == (status, PROBLEM + code)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("filename", "data", "status", "code"),
    [
        ("notes.png", b"plain text", 415, "unsupported-media-type"),
        ("empty.png", b"", 422, "empty-file"),
    ],
)
def test_search_by_bad_upload_is_a_problem(
    search: httpx.Client, filename: str, data: bytes, status: int, code: str
) -> None:
    response = search.post(SEARCH, files={"file": (filename, data)})
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.status_code, response.json()["type"]) == (status, PROBLEM + code)


def _search_by(search: httpx.Client, data: bytes) -> httpx.Response:
    return search.post(SEARCH, files={"file": ("query.png", data)}, params={"limit": 1})


def test_search_by_picture_refuses_more_bytes_than_the_configured_cap(
    search: httpx.Client, library: Library
) -> None:
    # Valid pictures under the pixel cap: only the byte cap tells them apart.
    under, over = encode(noise(175, 175), "PNG"), encode(noise(190, 190), "PNG")
    assert len(under) < SEARCH_MAX_BYTES < len(over) and 190 * 190 <= SEARCH_MAX_PIXELS
    assert _search_by(search, under).status_code == 200
    response = _search_by(search, over)
    assert (response.status_code, response.json()["type"]) == (413, PROBLEM + "file-too-large")


def test_search_by_picture_refuses_more_pixels_than_the_configured_cap(
    search: httpx.Client, library: Library
) -> None:
    # A few hundred bytes each, and far under Pillow's own bomb guard: only our cap refuses.
    at_cap, over = encode(picture(200, 200), "PNG"), encode(picture(201, 200), "PNG")
    assert 200 * 200 == SEARCH_MAX_PIXELS
    assert _search_by(search, at_cap).status_code == 200
    response = _search_by(search, over)
    assert (response.status_code, response.json()["type"]) == (422, PROBLEM + "image-too-large")
    assert "201x200" in response.json()["detail"]


def test_ops_endpoints(search: httpx.Client, stack: Stack) -> None:
    ready = search.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "catalog": True,
        "milvus": True,
        "model": True,
        "index_current": True,
    }
    assert ready.json()["model"]["name"] == "tiny-shapes" and ready.json()["model"]["demo"] is True
    assert "search_stage_seconds" in search.get("/metrics").text
