"""An image's variants and the links handed out for its bytes, in-process through
``create_app()`` (index and model faked, the catalog real on SQLite), checked the way cdnapi
checks them: the signature verifies for that exact path until ``expires_at``, and then not.
"""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

from searchapi.config import SearchOptions, SearchSettings
from searchapi.main import create_app
from shared.catalog.images import ImageCatalog
from shared.catalog.models import VariantRow
from shared.catalog.variants import VariantCatalog
from shared.config import SigningSettings
from shared.identity.roles import Role
from shared.signing import LinkSigner, Verdict
from tests.support.fake_model import FakeEmbedder, indexed_picture
from tests.support.fakes import FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import FailableCatalog, sqlite_catalog

SECRET = "searchapi-test-signing-secret-of-40-chars"
SIGNING = SigningSettings(secret=SecretStr(SECRET), link_ttl_s=600, max_link_ttl_s=3600)
RED, BLUE = indexed_picture("red"), indexed_picture("blue")
DONE, QUEUED, OF_BLUE = "d" * 64, "e" * 64, "f" * 64


def client_for(catalog: FailableCatalog, **settings: Any) -> TestClient:
    defaults: dict[str, Any] = {"auth": TEST_AUTH, "signing": SIGNING}
    app = create_app(
        SearchSettings(
            search=SearchOptions(startup_deadline_s=1),
            rate_limit=IN_MEMORY_LIMITS,
            database=catalog.settings,
            **(defaults | settings),
        )
    )
    container = app.state.container
    container.embedder.override(providers.Object(FakeEmbedder()))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.vectors.override(providers.Object(FakeVectorStore()))
    container.catalog.override(providers.Object(catalog))
    return TestClient(app)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[FailableCatalog]:
    """SQLite only: the routes need not run twice, as the catalog's own tests do."""
    catalog = sqlite_catalog(tmp_path)
    yield catalog
    catalog.close()


@pytest.fixture
def variants(catalog: FailableCatalog) -> VariantCatalog:
    """RED has a done variant and, asked for later, a queued one; BLUE a done one."""
    ImageCatalog(catalog).add([RED, BLUE])
    rows = VariantCatalog(catalog)
    for variant_id, image in ((DONE, RED), (OF_BLUE, BLUE), (QUEUED, RED)):
        rows.create_or_get(variant_id, image.id, {"format": "webp"}, str(uuid.uuid4()))
    with catalog.session() as session:  # QUEUED asked for a minute after DONE
        later = update(VariantRow).where(VariantRow.variant_id == QUEUED)
        session.execute(later.values(created_at=VariantRow.created_at + 60_000))
    rows.finish(DONE, "image/webp", 32, 24, 999)
    rows.finish(OF_BLUE, "image/webp", 32, 24, 998)
    return rows


@pytest.fixture
def client(catalog: FailableCatalog, variants: VariantCatalog) -> Iterator[TestClient]:
    with client_for(catalog) as client:
        grant(client, catalog, Role.VIEWER)
        yield client


def signed(url: str) -> tuple[str, str, str, dict[str, list[str]]]:
    """(path, exp, sig, every query field) of a signed URL."""
    split = urlsplit(url)
    query = parse_qs(split.query, strict_parsing=True)
    return split.path, query["exp"][0], query["sig"][0], query


def test_variants_are_listed_newest_first_with_what_they_are(client: TestClient) -> None:
    response = client.get(f"/api/v1/image/{RED.id}/variants")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image_id"] == RED.id
    queued, done = body["variants"]
    assert (queued["variant_id"], queued["state"], queued["mime"]) == (QUEUED, "queued", None)
    assert (done["variant_id"], done["state"], done["bytes"]) == (DONE, "done", 999)
    assert (done["width"], done["height"], done["mime"]) == (32, 24, "image/webp")
    assert done["url"] == f"/images/{RED.id}/variants/{DONE}"  # public reads: a plain path


def test_with_private_reads_listed_variant_urls_are_signed(
    catalog: FailableCatalog, variants: VariantCatalog
) -> None:
    private = TEST_AUTH.model_copy(update={"public_read": False})
    with client_for(catalog, auth=private) as client:
        grant(client, catalog, Role.VIEWER)
        [_, done] = client.get(f"/api/v1/image/{RED.id}/variants").json()["variants"]
    path, exp, sig, _ = signed(done["url"])
    assert path == f"/images/{RED.id}/variants/{DONE}"
    assert LinkSigner(SECRET, 600).verify("GET", path, exp, sig) == Verdict.OK


def test_a_link_to_the_original_lives_the_default_ttl_exactly(client: TestClient) -> None:
    before = time.time()
    body = client.get(f"/api/v1/image/{RED.id}/link").json()
    path, exp, sig, query = signed(body["url"])
    assert (path, sorted(query), int(exp)) == (
        f"/images/{RED.id}",
        ["exp", "sig"],
        body["expires_at"],
    )
    assert before + 600 <= body["expires_at"] <= time.time() + 601
    signer = LinkSigner(SECRET, 600)
    assert signer.verify("GET", path, exp, sig) == Verdict.OK
    assert signer.verify("GET", path, exp, sig, now=body["expires_at"]) == Verdict.EXPIRED
    assert signer.verify("GET", f"/images/{BLUE.id}", exp, sig) == Verdict.BAD


def test_a_link_to_a_done_variant_with_its_ttl_and_a_redirect_to_storage(
    client: TestClient,
) -> None:
    params = {"variant": DONE, "ttl": 5, "redirect": "storage"}
    body = client.get(f"/api/v1/image/{RED.id}/link", params=params).json()
    path, exp, sig, query = signed(body["url"])
    assert path == f"/images/{RED.id}/variants/{DONE}" and query["redirect"] == ["storage"]
    assert body["url"].endswith("&redirect=storage")  # beside the signature, not signed
    assert body["expires_at"] <= time.time() + 6
    assert LinkSigner(SECRET, 600).verify("GET", path, exp, sig) == Verdict.OK


@pytest.mark.parametrize(
    ("image_id", "params", "status", "code"),
    [
        (RED.id, {"variant": QUEUED}, 404, "variant-not-found"),
        (RED.id, {"variant": OF_BLUE}, 404, "variant-not-found"),
        (RED.id, {"variant": "a" * 64}, 404, "variant-not-found"),
        (RED.id, {"variant": "../x"}, 400, "invalid-input"),
        ("0" * 64, {}, 404, "image-not-found"),
        (RED.id, {"ttl": 3601}, 400, "invalid-input"),
        (RED.id, {"ttl": 0}, 422, "validation"),
        (RED.id, {"redirect": "elsewhere"}, 422, "validation"),
    ],
    ids=[
        "queued-variant",
        "another-images-variant",
        "unknown-variant",
        "malformed-variant",
        "unknown-image",
        "ttl-over-the-bound",
        "ttl-0",
        "unknown-redirect",
    ],
)
def test_no_link_is_made_for_what_cannot_be_served(
    client: TestClient, image_id: str, params: dict[str, Any], status: int, code: str
) -> None:
    response = client.get(f"/api/v1/image/{image_id}/link", params=params)
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:imagesearch:problem:{code}"


def test_the_variants_of_an_unknown_image_are_404(client: TestClient) -> None:
    response = client.get(f"/api/v1/image/{'0' * 64}/variants")
    assert response.json()["type"] == "urn:imagesearch:problem:image-not-found"


def test_public_reads_still_sign_links_and_without_a_secret_answer_503(
    catalog: FailableCatalog, variants: VariantCatalog
) -> None:
    with client_for(catalog, signing=SigningSettings()) as client:
        grant(client, catalog, Role.VIEWER)
        response = client.get(f"/api/v1/image/{RED.id}/link")
        assert client.get(f"/api/v1/image/{RED.id}").status_code == 200  # reads still work
    assert response.status_code == 503
    assert response.json()["type"] == "urn:imagesearch:problem:links-unavailable"
