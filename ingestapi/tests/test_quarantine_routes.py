"""``/api/v1/admin/quarantine`` through ``create_app()``, in-process: an admin lists the held
images with their decisions, releases one (a job is queued, the decision recorded) or deletes one
(row and bytes go); nobody else may, and a held image is invisible to the library's routes.

The object store, index and queue are in-memory fakes, the catalog the real one on a SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ingestapi.config import IngestSettings
from ingestapi.main import create_app
from shared.catalog.compliance import ComplianceCatalog, Decision
from shared.catalog.images import QUARANTINED, ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import ImageRecord, JobState, quarantine_key, quarantine_thumb_key
from shared.identity.roles import Role
from tests.support.fakes import FakeIngestQueue, FakeObjectStore, FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import FailableCatalog

PROBLEM = "urn:imagesearch:problem:"
HELD = "a" * 64


@pytest.fixture
def app(
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
) -> FastAPI:
    settings = IngestSettings(
        database=catalog.settings, auth=TEST_AUTH, rate_limit=IN_MEMORY_LIMITS
    )
    app = create_app(settings)
    container = app.state.container
    container.objects.override(providers.Object(objects))
    container.vectors.override(providers.Object(vectors))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.catalog.override(providers.Object(catalog))
    container.queue.override(providers.Object(queue))
    return app


@pytest.fixture
def api(app: FastAPI, catalog: FailableCatalog) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:  # runs the lifespan (migrates)
        grant(client, catalog)
        yield client


@pytest.fixture
def held(api: TestClient, catalog: FailableCatalog, objects: FakeObjectStore) -> str:
    """One image as the worker holds it: a quarantined row, its bytes, a check's decision."""
    record = ImageRecord(HELD, 40, 30, 100, "PNG", "red.png", 1_000, {"exif": {}}, tags=["x"])
    ImageCatalog(catalog, QUARANTINED).add([record])
    objects.put(quarantine_key(HELD), b"png", "image/png")
    objects.put(quarantine_thumb_key(HELD), b"webp", "image/webp")
    ComplianceCatalog(catalog).record(
        [Decision(HELD, "reds", "quarantine", "matches 'a red circle'", {"scores": {}}, "j1")]
    )
    return HELD


def decisions(catalog: FailableCatalog) -> list[tuple[str, str, str | None]]:
    history = ComplianceCatalog(catalog).history([HELD]).get(HELD, [])
    return [(d.check, d.outcome, d.decided_by) for d in history]


def key_prefix(api: TestClient) -> str:
    """The name an API key goes by (its prefix): who decided, in the history."""
    key = api.headers["Authorization"].removeprefix("Bearer ")
    return key[: len("isk_") + 8]


def test_the_list_shows_each_held_image_with_its_decisions(api: TestClient, held: str) -> None:
    response = api.get("/api/v1/admin/quarantine")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 1
    [image] = body["images"]
    assert (image["image_id"], image["filename"], image["tags"]) == (held, "red.png", ["x"])
    [decision] = image["decisions"]
    assert (decision["check"], decision["outcome"], decision["reason"]) == (
        "reds",
        "quarantine",
        "matches 'a red circle'",
    )
    assert api.get("/api/v1/admin/quarantine", params={"offset": 1}).json() == {
        "images": [],
        "total": 1,
    }


def test_release_queues_a_release_job_and_records_the_admins_decision(
    api: TestClient, held: str, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    response = api.post(f"/api/v1/admin/quarantine/{held}/release")
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert [(e.job_id, e.image_id) for e in queue.enqueued] == [(job_id, held)]
    job = JobStore(catalog).get(job_id)
    assert (job.state, job.params) == (JobState.QUEUED, {"release": True})
    assert decisions(catalog)[-1] == ("admin", "release", key_prefix(api))


def test_delete_removes_the_row_and_the_bytes_and_keeps_the_history(
    api: TestClient, held: str, catalog: FailableCatalog, objects: FakeObjectStore
) -> None:
    response = api.delete(f"/api/v1/admin/quarantine/{held}")
    assert (response.status_code, response.content) == (204, b"")
    assert objects.objects == {}
    assert ImageCatalog(catalog, QUARANTINED).count() == 0
    assert decisions(catalog) == [
        ("reds", "quarantine", None),
        ("admin", "delete", key_prefix(api)),
    ]
    again = api.delete(f"/api/v1/admin/quarantine/{held}")
    assert (again.status_code, again.json()["type"]) == (404, PROBLEM + "image-not-found")


@pytest.mark.parametrize("method", ["post", "delete"])
def test_an_image_not_held_is_404_and_a_malformed_id_400(api: TestClient, method: str) -> None:
    suffix = "/release" if method == "post" else ""
    missing = api.request(method.upper(), f"/api/v1/admin/quarantine/{'b' * 64}{suffix}")
    assert (missing.status_code, missing.json()["type"]) == (404, PROBLEM + "image-not-found")
    bad = api.request(method.upper(), f"/api/v1/admin/quarantine/NOT-AN-ID{suffix}")
    assert (bad.status_code, bad.json()["type"]) == (400, PROBLEM + "invalid-input")


def test_an_editor_may_not_see_or_decide(
    api: TestClient, held: str, catalog: FailableCatalog
) -> None:
    grant(api, catalog, Role.EDITOR)
    assert api.get("/api/v1/admin/quarantine").status_code == 403
    assert api.post(f"/api/v1/admin/quarantine/{held}/release").status_code == 403
    assert api.delete(f"/api/v1/admin/quarantine/{held}").status_code == 403
    assert decisions(catalog) == [("reds", "quarantine", None)]


def test_a_held_image_is_not_found_by_the_library_routes(api: TestClient, held: str) -> None:
    deleted = api.delete(f"/api/v1/ingest/images/{held}")
    assert (deleted.status_code, deleted.json()["type"]) == (404, PROBLEM + "image-not-found")
