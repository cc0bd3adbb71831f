"""SearchService on the fakes: the query cache, the query rules and the neighbours of an image.

Whether the model ran is read off the fake embedder's record of the texts it encoded: state of a
fake of our port, not a mock of our own code.
"""

import pytest
from prometheus_client import CollectorRegistry

from searchapi.service.search import SearchService
from shared.domain import Hit, SearchFilters
from shared.errors import FileTooLarge, ImageNotFound, ImageTooLarge, InvalidInput
from shared.spool import ReceivedFile
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorStore
from tests.support.images import encode, picture, png_bomb_header

MAX_QUERY_CHARS, MAX_PIXELS = 30, 40_000
RED, BLUE = indexed_picture("red"), indexed_picture("blue")
RED_LARGER = indexed_picture("red", width=96, height=96)
LIBRARY = [RED, RED_LARGER, BLUE]
ANY = SearchFilters()


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


def service_on(embedder: FakeEmbedder, cache_size: int = 16) -> SearchService:
    vectors = FakeVectorStore()
    vectors.upsert(LIBRARY)
    return SearchService(
        embedder=embedder,
        vectors=vectors,
        cache_size=cache_size,
        max_query_chars=MAX_QUERY_CHARS,
        max_pixels=MAX_PIXELS,
        registry=CollectorRegistry(),
    )


def ranked(hits: list[Hit]) -> list[str]:
    return [hit.record.id for hit in hits]


def test_repeated_query_is_answered_without_the_model(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    first = service.by_text("Blue  circle", 10, 0, None, ANY)
    again = service.by_text("  blue CIRCLE ", 10, 0, None, ANY)
    assert embedder.texts == ["blue circle"]
    assert ranked(again) == ranked(first) and ranked(first)[0] == BLUE.id


def test_a_different_query_asks_the_model(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    service.by_text("blue", 10, 0, None, ANY)
    service.by_text("red", 10, 0, None, ANY)
    assert embedder.texts == ["blue", "red"]


def test_query_cache_forgets_the_least_recently_used(embedder: FakeEmbedder) -> None:
    service = service_on(embedder, cache_size=2)
    for text in ("red", "blue", "red", "green", "red", "blue"):
        service.by_text(text, 10, 0, None, ANY)
    # "green" pushed out "blue" (used less recently than "red"), so only "blue" is asked twice.
    assert embedder.texts == ["red", "blue", "green", "blue"]


def test_query_length_is_capped_after_trimming(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    longest = "r" * MAX_QUERY_CHARS
    assert len(service.by_text(f"  {longest}  ", 10, 0, None, ANY)) == len(LIBRARY)
    with pytest.raises(InvalidInput, match=f"longer than {MAX_QUERY_CHARS}"):
        service.by_text(longest + "r", 10, 0, None, ANY)
    assert embedder.texts == [longest]  # a refused query never reaches the model


def test_blank_query_is_refused(embedder: FakeEmbedder) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        service_on(embedder).by_text(" \t ", 10, 0, None, ANY)


def test_similar_excludes_the_image_itself(embedder: FakeEmbedder) -> None:
    hits = service_on(embedder).similar(RED.id, 10, 0, None)
    assert ranked(hits) == [RED_LARGER.id, BLUE.id]


def test_similar_of_an_unknown_or_malformed_id_is_refused(embedder: FakeEmbedder) -> None:
    service = service_on(embedder)
    with pytest.raises(ImageNotFound):
        service.similar("0" * 64, 10, 0, None)
    with pytest.raises(InvalidInput, match="64 lowercase"):
        service.similar(RED.id.upper(), 10, 0, None)


def received(data: bytes, max_bytes: int = 100_000) -> ReceivedFile:
    upload = ReceivedFile("query.png", max_bytes)
    upload.write(data)
    upload.rewind()
    return upload


def test_search_by_image_ranks_the_same_colour_first(embedder: FakeEmbedder) -> None:
    upload = received(encode(picture(64, 64, PALETTE["blue"]), "PNG"))
    assert ranked(service_on(embedder).by_image(upload, 10, 0, None, ANY))[0] == BLUE.id


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
        service_on(embedder).by_image(upload, 10, 0, None, ANY)
    assert embedder.image_batches == []
