"""SearchService on the fakes: the query cache, the query rules and the neighbours of an image.

Whether the model ran is read off the fake embedder's record of the texts it encoded: state of a
fake of our port, not a mock of our own code.
"""

import pytest
from prometheus_client import CollectorRegistry

from searchapi.config import CutoffOptions
from searchapi.service.background import LibraryBackground
from searchapi.service.cutoff import Page, Ranking
from searchapi.service.search import SearchService
from shared.domain import ImageRecord, SearchFilters
from shared.errors import FileTooLarge, ImageNotFound, ImageTooLarge, InvalidInput
from shared.spool import ReceivedFile
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorStore
from tests.support.images import encode, picture, png_bomb_header

MAX_QUERY_CHARS, MAX_PIXELS = 30, 40_000
RED, BLUE = indexed_picture("red"), indexed_picture("blue")
RED_LARGER = indexed_picture("red", width=96, height=96)
LIBRARY = [RED, RED_LARGER, BLUE]
# Matches are a few of a library, as they are in life: here two reds among five pictures.
COLOURFUL = [*LIBRARY, indexed_picture("green"), indexed_picture("yellow")]
ANY = SearchFilters()
PAGE = Page(limit=10)


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


def service_on(
    embedder: FakeEmbedder, cache_size: int = 16, library: list[ImageRecord] = LIBRARY
) -> SearchService:
    vectors = FakeVectorStore()
    vectors.upsert(library)
    return SearchService(
        embedder=embedder,
        vectors=vectors,
        cache_size=cache_size,
        max_query_chars=MAX_QUERY_CHARS,
        max_pixels=MAX_PIXELS,
        registry=CollectorRegistry(),
        background=LibraryBackground(vectors, size=16, max_age_s=60),
        cutoff=CutoffOptions(),
    )


def ranked(ranking: Ranking) -> list[str]:
    return [ranked.hit.record.id for ranked in ranking.hits]


def test_repeated_query_is_answered_without_the_model(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    first = service.by_text("Blue  circle", PAGE, ANY)
    again = service.by_text("  blue CIRCLE ", PAGE, ANY)
    assert embedder.texts == ["blue circle"]
    assert ranked(again) == ranked(first) and ranked(first)[0] == BLUE.id


def test_a_different_query_asks_the_model(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    service.by_text("blue", PAGE, ANY)
    service.by_text("red", PAGE, ANY)
    assert embedder.texts == ["blue", "red"]


def test_query_cache_forgets_the_least_recently_used(embedder: FakeEmbedder) -> None:
    service = service_on(embedder, cache_size=2)
    for text in ("red", "blue", "red", "green", "red", "blue"):
        service.by_text(text, PAGE, ANY)
    # "green" pushed out "blue" (used less recently than "red"), so only "blue" is asked twice.
    assert embedder.texts == ["red", "blue", "green", "blue"]


def test_query_length_is_capped_after_trimming(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    longest = "r" * MAX_QUERY_CHARS
    assert len(service.by_text(f"  {longest}  ", PAGE, ANY).hits) == len(LIBRARY)
    with pytest.raises(InvalidInput, match=f"longer than {MAX_QUERY_CHARS}"):
        service.by_text(longest + "r", PAGE, ANY)
    assert embedder.texts == [longest]  # a refused query never reaches the model


def test_blank_query_is_refused(embedder: FakeEmbedder) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        service_on(embedder).by_text(" \t ", PAGE, ANY)


def test_similar_excludes_the_image_itself(embedder: FakeEmbedder) -> None:
    hits = service_on(embedder).similar(RED.id, PAGE)
    assert ranked(hits) == [RED_LARGER.id, BLUE.id]


def test_similar_of_an_unknown_or_malformed_id_is_refused(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    with pytest.raises(ImageNotFound):
        service.similar("0" * 64, PAGE)
    with pytest.raises(InvalidInput, match="64 lowercase"):
        service.similar(RED.id.upper(), PAGE)


def received(data: bytes, max_bytes: int = 100_000) -> ReceivedFile:
    upload = ReceivedFile("query.png", max_bytes)
    upload.write(data)
    upload.rewind()
    return upload


def test_search_by_image_ranks_the_same_colour_first(embedder: FakeEmbedder) -> None:
    upload = received(encode(picture(64, 64, PALETTE["blue"]), "PNG"))
    assert ranked(service_on(embedder).by_image(upload, PAGE, ANY))[0] == BLUE.id


@pytest.mark.parametrize(
    ("upload", "refusal"),
    [
        (received(encode(picture(), "PNG"), max_bytes=100), FileTooLarge),
        (received(png_bomb_header(300, 300)), ImageTooLarge),
    ],
    ids=["over-the-byte-cap", "over-the-pixel-cap"],
)
def test_search_by_image_enforces_the_caps(
    embedder: FakeEmbedder, upload: ReceivedFile, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        service_on(embedder).by_image(upload, PAGE, ANY)
    assert embedder.image_batches == []


def test_a_search_counts_its_matches_and_marks_each_hit(embedder: FakeEmbedder) -> None:
    ranking = service_on(embedder, library=COLOURFUL).by_text("red", PAGE, ANY)
    reds = {RED.id, RED_LARGER.id}
    assert ranking.matches == 2
    assert [(r.hit.record.id in reds, r.match) for r in ranking.hits] == [
        (True, True),
        (True, True),
        *[(False, False)] * 3,
    ]


def test_only_matches_leaves_the_weaker_hits_out(embedder: FakeEmbedder) -> None:
    page = Page(limit=10, only_matches=True)
    ranking = service_on(embedder, library=COLOURFUL).by_text("red", page, ANY)
    assert set(ranked(ranking)) == {RED.id, RED_LARGER.id}


def test_similar_marks_its_matches_too(embedder: FakeEmbedder) -> None:
    ranking = service_on(embedder).similar(RED.id, PAGE)
    assert [(r.hit.record.id, r.match) for r in ranking.hits] == [
        (RED_LARGER.id, True),
        (BLUE.id, False),
    ]


def test_matches_past_the_page_are_counted_and_paged_to(embedder: FakeEmbedder) -> None:
    reds = [indexed_picture("red", width=40 + i) for i in range(5)]
    others = [indexed_picture(c) for c in ("blue", "green", "yellow", "purple", "orange")]
    service = service_on(embedder, library=reds + others)
    first = service.by_text("red", Page(limit=2), ANY)
    assert (first.matches, [r.match for r in first.hits]) == (5, [True, True])
    last = service.by_text("red", Page(limit=2, offset=4), ANY)
    assert [(r.hit.record.id in {p.id for p in reds}, r.match) for r in last.hits] == [
        (True, True),
        (False, False),
    ]
