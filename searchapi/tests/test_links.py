"""Byte URLs in searchapi's answers: plain with public reads, signed with private ones.

In-process through ``create_app()`` (the index and model faked, the catalog real on SQLite), with
private reads and a viewer key. Each URL is checked the way cdnapi checks it: the signature
verifies with the configured secret for that exact path, and no other secret or path.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from pydantic import SecretStr

from searchapi.config import SearchOptions, SearchSettings
from searchapi.main import create_app
from shared.catalog.images import ImageCatalog
from shared.config import AuthSettings, SigningSettings
from shared.identity.roles import Role
from shared.links import build_links
from shared.signing import LinkSigner, Verdict
from tests.support.fake_model import PALETTE, FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.images import encode, picture
from tests.support.local_catalog import sqlite_catalog

SECRET = "searchapi-test-signing-secret-of-40-chars"
TTL_S = 600
PRIVATE = SearchSettings(
    search=SearchOptions(startup_deadline_s=1),
    auth=TEST_AUTH.model_copy(update={"public_read": False}),
    signing=SigningSettings(secret=SecretStr(SECRET), link_ttl_s=TTL_S),
    rate_limit=IN_MEMORY_LIMITS,
)
RED, BLUE = indexed_picture("red"), indexed_picture("blue", tags=["sea"])
IMAGES = "/api/v1/image"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    catalog = sqlite_catalog(tmp_path)
    ImageCatalog(catalog).add([RED, BLUE])
    app = create_app(PRIVATE.model_copy(update={"database": catalog.settings}))
    vectors = FakeVectorStore()
    vectors.upsert([RED, BLUE])
    container = app.state.container
    container.embedder.override(providers.Object(FakeEmbedder()))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.vectors.override(providers.Object(vectors))
    container.catalog.override(providers.Object(catalog))
    with TestClient(app) as client:
        grant(client, catalog, Role.VIEWER)
        yield client


def assert_signed(url: str, path: str) -> None:
    """``url`` is ``path`` signed with SECRET for TTL_S (rounded up by a quarter at most)."""
    split = urlsplit(url)
    query = parse_qs(split.query, strict_parsing=True)
    assert (split.scheme, split.netloc, split.path) == ("", "", path)
    assert sorted(query) == ["exp", "sig"]
    [exp], [sig] = query["exp"], query["sig"]
    now = time.time()
    assert now + TTL_S - 5 <= int(exp) <= now + TTL_S + TTL_S // 4
    assert LinkSigner(SECRET, TTL_S).verify("GET", path, exp, sig) == Verdict.OK
    assert LinkSigner(SECRET + "-other", TTL_S).verify("GET", path, exp, sig) == Verdict.BAD
    assert LinkSigner(SECRET, TTL_S).verify("GET", path + "/x", exp, sig) == Verdict.BAD


def assert_all_signed(results: list[dict[str, str]], expected_ids: set[str]) -> None:
    assert {r["id"] for r in results} == expected_ids
    for r in results:
        assert_signed(r["url"], f"/images/{r['id']}")
        assert_signed(r["thumb_url"], f"/images/{r['id']}/thumb")


def test_one_image_answers_signed_original_and_thumbnail_urls(client: TestClient) -> None:
    response = client.get(f"{IMAGES}/{RED.id}")
    assert response.status_code == 200, response.text
    assert_all_signed([response.json()], {RED.id})


def test_library_pages_answer_signed_urls(client: TestClient) -> None:
    assert_all_signed(client.get(IMAGES).json()["results"], {RED.id, BLUE.id})


def test_searches_by_text_and_by_picture_answer_signed_urls(client: TestClient) -> None:
    by_text = client.get(f"{IMAGES}/search", params={"text": "red", "tag": "sea"})
    assert_all_signed(by_text.json()["results"], {BLUE.id})
    upload = encode(picture(32, 32, PALETTE["blue"]), "PNG")
    by_picture = client.post(f"{IMAGES}/search", files={"file": ("q.png", upload, "image/png")})
    assert_all_signed(by_picture.json()["results"], {RED.id, BLUE.id})


def test_similar_images_answer_signed_urls(client: TestClient) -> None:
    assert_all_signed(client.get(f"{IMAGES}/{RED.id}/similar").json()["results"], {BLUE.id})


@pytest.mark.parametrize("secret", ["", "s" * 31], ids=["empty", "31-characters"])
def test_private_reads_refuse_to_start_without_a_32_character_secret(secret: str) -> None:
    settings = PRIVATE.model_copy(update={"signing": SigningSettings(secret=SecretStr(secret))})
    with pytest.raises(ValueError, match=r"SIGNING__SECRET.*32 characters"):
        create_app(settings)


def test_public_reads_need_no_secret_and_answer_plain_paths() -> None:
    links = build_links(AuthSettings(public_read=True), SigningSettings())
    assert (links.original(RED.id), links.thumb(RED.id)) == (
        f"/images/{RED.id}",
        f"/images/{RED.id}/thumb",
    )
    assert build_links(AuthSettings(public_read=False), PRIVATE.signing).original(RED.id) != (
        f"/images/{RED.id}"
    )
