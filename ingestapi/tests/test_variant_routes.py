"""``POST /api/v1/ingest/images/{id}/variants`` through ``create_app()``: 202 then 200, problems
for every refusal with nothing queued, editors only, and a signed ``url`` when reads are private.

The queue is the fake; the catalog the real one on SQLite, holding one 3000x2000 image.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ingestapi.config import IngestSettings
from ingestapi.main import create_app
from shared.catalog.images import ImageCatalog
from shared.catalog.variants import VariantCatalog
from shared.config import ImageLimits, SigningSettings
from shared.domain import ImageRecord, image_id_of
from shared.identity.roles import Role
from shared.signing import LinkSigner, Verdict
from tests.support.fakes import FakeIngestQueue
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import FailableCatalog

IMAGE = image_id_of(b"a 3000x2000 photo")
COVER = {"width": 800, "height": 600, "fit": "cover", "format": "webp", "grayscale": True}
SECRET = "ingestapi-test-signing-secret-of-40-chars"
PROBLEM = "urn:imagesearch:problem:"


def client_for(
    catalog: FailableCatalog, queue: FakeIngestQueue, role: Role, **settings: Any
) -> TestClient:
    defaults = {"auth": TEST_AUTH, "rate_limit": IN_MEMORY_LIMITS}
    app = create_app(
        IngestSettings(
            limits=ImageLimits(max_pixels=1_000_000),
            database=catalog.settings,
            **(defaults | settings),
        )
    )
    app.state.container.catalog.override(providers.Object(catalog))
    app.state.container.queue.override(providers.Object(queue))
    client = TestClient(app)
    grant(client, catalog, role)
    return client


@pytest.fixture
def api(catalog: FailableCatalog, queue: FakeIngestQueue) -> Iterator[TestClient]:
    ImageCatalog(catalog).add([ImageRecord(IMAGE, 3000, 2000, 2_000_000, "JPEG", "a.jpg", 1)])
    with client_for(catalog, queue, Role.EDITOR) as client:
        yield client


def ask(api: TestClient, params: Any, image_id: str = IMAGE) -> Any:
    return api.post(f"/api/v1/ingest/images/{image_id}/variants", json=params)


def test_a_variant_is_accepted_with_202_again_202_while_queued_and_200_once_done(
    api: TestClient, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    first = ask(api, COVER)
    assert first.status_code == 202, first.text
    body = first.json()
    assert set(body) == {"variant_id", "image_id", "state", "params", "url", "job_id"}
    assert (body["image_id"], body["state"], body["params"]["quality"]) == (IMAGE, "queued", 85)
    assert body["url"] == f"/images/{IMAGE}/variants/{body['variant_id']}"
    assert ask(api, COVER).json() == body and ask(api, COVER).status_code == 202
    VariantCatalog(catalog).finish(body["variant_id"], "image/webp", 800, 600, 4321)
    done = ask(api, COVER)
    assert (done.status_code, done.json()["state"], done.json()["job_id"]) == (
        200,
        "done",
        body["job_id"],
    )
    assert [m.job_id for m in queue.variants] == [body["job_id"]]


@pytest.mark.parametrize(
    ("params", "image_id", "status", "code"),
    [
        ({**COVER, "width": "800"}, IMAGE, 422, "validation"),
        ({"width": 800, "fit": "cover"}, IMAGE, 422, "validation"),
        ({**COVER, "format": "gif"}, IMAGE, 422, "validation"),
        ({**COVER, "quality": 0}, IMAGE, 422, "validation"),
        ({**COVER, "watermark": {"text": ""}}, IMAGE, 422, "validation"),
        ({**COVER, "sharpen": True}, IMAGE, 422, "validation"),
        ({"width": 2000, "height": 1000, "fit": "fill"}, IMAGE, 400, "invalid-input"),
        (COVER, image_id_of(b"never stored"), 404, "image-not-found"),
        (COVER, "A" * 64, 400, "invalid-input"),
    ],
    ids=[
        "width-as-text",
        "cover-without-height",
        "unknown-format",
        "quality-0",
        "empty-watermark",
        "unknown-field",
        "over-the-pixel-cap",
        "unknown-image",
        "malformed-id",
    ],
)
def test_a_refused_request_answers_its_problem_and_queues_nothing(
    api: TestClient,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    params: Any,
    image_id: str,
    status: int,
    code: str,
) -> None:
    response = ask(api, params, image_id)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEM + code
    assert queue.variants == [] and VariantCatalog(catalog).for_image(IMAGE) == []


def test_a_viewer_may_not_ask_for_a_variant(
    catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    ImageCatalog(catalog).add([ImageRecord(IMAGE, 3000, 2000, 2_000_000, "JPEG", "a.jpg", 1)])
    with client_for(catalog, queue, Role.VIEWER) as viewer:
        assert ask(viewer, COVER).status_code == 403
    assert queue.variants == []


def test_with_private_reads_the_variant_url_is_signed(
    catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    ImageCatalog(catalog).add([ImageRecord(IMAGE, 3000, 2000, 2_000_000, "JPEG", "a.jpg", 1)])
    private = {
        "auth": TEST_AUTH.model_copy(update={"public_read": False}),
        "signing": SigningSettings(secret=SecretStr(SECRET)),
    }
    with client_for(catalog, queue, Role.EDITOR, **private) as editor:
        body = ask(editor, COVER).json()
    path, _, query = body["url"].partition("?")
    assert path == f"/images/{IMAGE}/variants/{body['variant_id']}"
    fields = dict(part.split("=", 1) for part in query.split("&"))
    assert LinkSigner(SECRET, 3600).verify("GET", path, fields["exp"], fields["sig"]) == Verdict.OK


def test_private_reads_without_a_signing_secret_refuse_to_start() -> None:
    private = TEST_AUTH.model_copy(update={"public_read": False})
    with pytest.raises(ValueError, match="SIGNING__SECRET"):
        create_app(IngestSettings(auth=private, rate_limit=IN_MEMORY_LIMITS))
