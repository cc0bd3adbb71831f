"""Every ingestapi route through ``create_app()``: status codes and problem types, in-process.

The container's object store, index and queue are in-memory fakes and its catalog the real one on
a SQLite file; the limits are small settings of this module's own, so a refusal by the configured
cap cannot pass for one by Pillow's guard. Each refusal also checks what it left behind: nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from dependency_injector import providers
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ingestapi.config import IngestLimits, IngestSettings
from ingestapi.main import create_app
from shared.catalog import migrate
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import DatabaseSettings, ImageLimits
from shared.domain import ImageRecord, image_id_of, original_key, staging_key, thumb_key
from tests.support.fakes import FakeIngestQueue, FakeObjectStore, FakeVectorIndex, FakeVectorStore
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.images import encode, picture, truncated
from tests.support.local_catalog import FailableCatalog, recorded_jobs

MAX_BYTES = 100_000
MAX_PIXELS = 10_000  # 100 x 100
MAX_FILES = 4
PROBLEM = "urn:imagesearch:problem:"


def settings_on(database: DatabaseSettings) -> IngestSettings:
    return IngestSettings(
        limits=ImageLimits(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS),
        ingest=IngestLimits(max_files=MAX_FILES, startup_deadline_s=1),
        database=database,
        auth=TEST_AUTH,
        rate_limit=IN_MEMORY_LIMITS,
    )


@pytest.fixture
def app(
    objects: FakeObjectStore,
    vectors: FakeVectorStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
) -> FastAPI:
    """The app with small limits, its stores and queue replaced before anything builds them."""
    app = create_app(settings_on(catalog.settings))
    container = app.state.container
    container.objects.override(providers.Object(objects))
    container.vectors.override(providers.Object(vectors))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.catalog.override(providers.Object(catalog))
    container.queue.override(providers.Object(queue))
    return app


@pytest.fixture
def api(app: FastAPI, catalog: FailableCatalog) -> Iterator[TestClient]:
    """A client with an admin's key. Unexpected errors answer 500 as in production, instead of
    being raised into the test."""
    with TestClient(app, raise_server_exceptions=False) as client:  # runs the lifespan
        grant(client, catalog)
        yield client


def png(colour: tuple[int, int, int] = (200, 30, 30), width: int = 40, height: int = 40) -> bytes:
    return encode(picture(width, height, colour), "PNG")


def upload(api: TestClient, *files: tuple[str, bytes]) -> httpx.Response:
    return api.post("/api/v1/ingest", files=[("files", (name, data)) for name, data in files])


def problem_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"]) == (PROBLEM + code, status)
    assert body["title"] and body["detail"]
    return body


def assert_nothing_stored(
    objects: FakeObjectStore, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    assert (objects.objects, recorded_jobs(catalog), queue.enqueued) == ({}, {}, [])


def test_upload_answers_202_with_a_queued_job_per_file(
    api: TestClient, objects: FakeObjectStore, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    red, blue = png((200, 0, 0)), png((0, 0, 200))
    response = upload(api, ("red.png", red), ("blue.png", blue))
    assert response.status_code == 202
    listed = [(j["filename"], j["state"], j["image_id"]) for j in response.json()["jobs"]]
    assert listed == [
        ("red.png", "queued", image_id_of(red)),
        ("blue.png", "queued", image_id_of(blue)),
    ]
    job_ids = [j["job_id"] for j in response.json()["jobs"]]
    assert [e.job_id for e in queue.enqueued] == job_ids
    assert set(recorded_jobs(catalog)) == set(job_ids)
    assert set(objects.objects) == {staging_key(image_id_of(red)), staging_key(image_id_of(blue))}


def test_mixed_upload_is_202_with_the_bad_file_rejected_and_only_the_good_one_queued(
    api: TestClient, objects: FakeObjectStore, queue: FakeIngestQueue
) -> None:
    good = png()
    response = upload(api, ("good.png", good), ("bad.png", b"not an image at all"))
    assert response.status_code == 202
    queued, rejected = response.json()["jobs"]
    assert (queued["state"], queued["problem"]) == ("queued", None)
    assert (rejected["state"], rejected["job_id"], rejected["image_id"]) == ("rejected", None, None)
    assert rejected["problem"]["type"] == PROBLEM + "unsupported-media-type"
    assert rejected["problem"]["status"] == 415
    assert [e.filename for e in queue.enqueued] == ["good.png"]
    assert set(objects.objects) == {staging_key(image_id_of(good))}


REFUSALS = {  # file name, bytes, status, problem code
    "not-an-image": ("notes.png", b"plain text\n" * 20, 415, "unsupported-media-type"),
    "truncated": ("cut.png", truncated(png(width=80, height=80)), 422, "corrupt-image"),
    "empty": ("empty.png", b"", 422, "empty-file"),
    # 10,100 pixels: refused by the configured cap, far below Pillow's own guard.
    "one-row-over-pixel-cap": ("tall.png", png(width=100, height=101), 422, "image-too-large"),
    "one-byte-over-byte-cap": ("big.png", b"\x89PNG" + bytes(MAX_BYTES - 3), 413, "file-too-large"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_single_refused_file_is_its_problem_and_nothing_is_stored(
    api: TestClient,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    case: str,
) -> None:
    filename, data, status, code = REFUSALS[case]
    body = problem_of(upload(api, (filename, data)), status, code)
    [error] = body["errors"]
    assert (error["filename"], error["type"], error["status"]) == (filename, body["type"], status)
    assert_nothing_stored(objects, catalog, queue)


def test_image_at_exactly_the_caps_is_accepted(api: TestClient) -> None:
    """The other side of the caps above: they are the configured ones, not off by one."""
    exact = png(width=100, height=100)
    padded = exact + bytes(MAX_BYTES - len(exact))  # PNG readers ignore bytes after IEND
    response = upload(api, ("square.png", padded))
    assert response.status_code == 202, response.text
    assert response.json()["jobs"][0]["state"] == "queued"


def test_every_file_refused_alike_is_that_problem_listing_each(api: TestClient) -> None:
    body = problem_of(
        upload(api, ("a.txt", b"text"), ("b.txt", b"more text")), 415, "unsupported-media-type"
    )
    assert body["detail"].startswith("no file was accepted")
    assert [e["filename"] for e in body["errors"]] == ["a.txt", "b.txt"]


def test_every_file_refused_differently_is_one_422_listing_each(api: TestClient) -> None:
    response = upload(api, ("a.txt", b"text"), ("empty.png", b""))
    body = problem_of(response, 422, "rejected")
    assert [(e["filename"], e["status"]) for e in body["errors"]] == [
        ("a.txt", 415),
        ("empty.png", 422),
    ]


NOTE_ONLY = b'--x\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--x--\r\n'


@pytest.mark.parametrize(
    ("content", "headers", "detail"),
    [
        (b"", {}, "multipart/form-data"),
        (b'{"files": []}', {"content-type": "application/json"}, "multipart/form-data"),
        (NOTE_ONLY, {"content-type": "multipart/form-data; boundary=x"}, "no files"),
    ],
    ids=["empty-body", "not-multipart", "no-files-part"],
)
def test_upload_without_files_is_400(
    api: TestClient,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    content: bytes,
    headers: dict[str, str],
    detail: str,
) -> None:
    response = api.post("/api/v1/ingest", content=content, headers=headers)
    assert detail in problem_of(response, 400, "invalid-input")["detail"]
    assert_nothing_stored(objects, catalog, queue)


def test_more_files_than_allowed_is_400(api: TestClient, queue: FakeIngestQueue) -> None:
    files = [(f"{n}.png", png((n * 40, 0, 0))) for n in range(MAX_FILES + 1)]
    body = problem_of(upload(api, *files), 400, "invalid-input")
    assert str(MAX_FILES) in body["detail"]
    assert queue.enqueued == []


def test_same_image_twice_in_one_request_is_queued_then_duplicate(
    api: TestClient, queue: FakeIngestQueue
) -> None:
    data = png()
    first, second = upload(api, ("a.png", data), ("b.png", data)).json()["jobs"]
    assert (first["state"], second["state"]) == ("queued", "duplicate")
    assert first["image_id"] == second["image_id"] == image_id_of(data)
    assert [e.job_id for e in queue.enqueued] == [first["job_id"]]


def test_catalogued_image_is_a_duplicate_and_nothing_is_staged_or_queued(
    api: TestClient, objects: FakeObjectStore, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    data = png()
    ImageCatalog(catalog).add([_record(image_id_of(data))])
    response = upload(api, ("again.png", data))
    assert response.status_code == 202
    [job] = response.json()["jobs"]
    assert (job["state"], job["image_id"]) == ("duplicate", image_id_of(data))
    assert api.get(f"/api/v1/ingest/jobs/{job['job_id']}").json()["state"] == "duplicate"
    assert objects.objects == {} and queue.enqueued == []


@pytest.mark.parametrize("down", ["objects", "catalog", "queue"])
def test_an_outage_is_503_with_retry_after_and_nothing_is_stored_or_queued(
    api: TestClient,
    objects: FakeObjectStore,
    catalog: FailableCatalog,
    queue: FakeIngestQueue,
    down: str,
) -> None:
    failing = {"objects": objects, "catalog": catalog, "queue": queue}[down]
    failing.outage()
    response = upload(api, ("a.png", png()))
    body = problem_of(response, 503, "dependency-unavailable")
    assert failing.dependency in body["detail"]
    assert int(response.headers["retry-after"]) > 0
    failing.heal()
    assert_nothing_stored(objects, catalog, queue)


def test_upload_tags_are_normalised_into_the_job_and_a_bad_one_is_400(
    api: TestClient, objects: FakeObjectStore, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    """Each ``tags`` part is one tag or a comma-separated list."""
    form = {"tags": ["Beach, Summer  Holiday", "beach"]}
    response = api.post("/api/v1/ingest", files=[("files", ("a.png", png()))], data=form)
    [job] = response.json()["jobs"]
    params = JobStore(catalog).get(job["job_id"]).params
    assert params == {"source": "upload", "tags": ["beach", "summer holiday"]}

    bad = api.post(
        "/api/v1/ingest", files=[("files", ("b.png", png((0, 0, 9))))], data={"tags": "a\\b"}
    )
    assert "not allowed" in problem_of(bad, 400, "invalid-input")["detail"]
    assert [e.job_id for e in queue.enqueued] == [job["job_id"]]


def test_url_ingest_with_a_bad_body_is_422_validation(api: TestClient) -> None:
    body = problem_of(api.post("/api/v1/ingest/url", json={"link": "x"}), 422, "validation")
    assert body["errors"][0]["loc"] == ["body", "url"]


def test_url_on_loopback_is_refused_before_connecting(
    api: TestClient, objects: FakeObjectStore, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    # Nothing listens on port 9: had the fetch connected, it would be 422 url-unreachable.
    response = api.post("/api/v1/ingest/url", json={"url": "http://127.0.0.1:9/a.png"})
    problem_of(response, 400, "url-not-allowed")
    assert_nothing_stored(objects, catalog, queue)


def test_job_status_answers_the_job_of_an_upload(api: TestClient) -> None:
    data = png()
    [job] = upload(api, ("a.png", data)).json()["jobs"]
    response = api.get(f"/api/v1/ingest/jobs/{job['job_id']}")
    assert response.status_code == 200
    found = response.json()
    assert (found["job_id"], found["state"], found["image_id"], found["filename"]) == (
        job["job_id"],
        "queued",
        image_id_of(data),
        "a.png",
    )


def test_job_status_of_a_malformed_id_is_400_and_of_an_unknown_one_404(api: TestClient) -> None:
    problem_of(api.get("/api/v1/ingest/jobs/not-a-uuid"), 400, "invalid-input")
    problem_of(api.get(f"/api/v1/ingest/jobs/{uuid.uuid4()}"), 404, "job-not-found")


def _record(image_id: str) -> ImageRecord:
    return ImageRecord(image_id, 40, 40, 100, "PNG", "a.png", 1, embedding=np.ones(4))


def test_delete_is_204_and_the_image_is_gone_everywhere(
    api: TestClient, objects: FakeObjectStore, vectors: FakeVectorStore, catalog: FailableCatalog
) -> None:
    image_id = image_id_of(b"an image")
    vectors.upsert([_record(image_id)])
    ImageCatalog(catalog).add([_record(image_id)])
    for key in (original_key(image_id), thumb_key(image_id)):
        objects.put(key, b"bytes", "image/png")
    response = api.delete(f"/api/v1/ingest/images/{image_id}")
    assert (response.status_code, response.content) == (204, b"")
    assert (vectors.rows, objects.objects, ImageCatalog(catalog).count()) == ({}, {}, 0)
    problem_of(api.delete(f"/api/v1/ingest/images/{image_id}"), 404, "image-not-found")


def test_delete_of_a_malformed_id_is_400(api: TestClient) -> None:
    problem_of(api.delete("/api/v1/ingest/images/NOT-A-HASH"), 400, "invalid-input")


def test_unknown_path_is_404_and_wrong_method_405_as_problems(api: TestClient) -> None:
    problem_of(api.get("/api/v1/nothing-here"), 404, "http-404")
    problem_of(api.put("/api/v1/ingest"), 405, "http-405")


def test_unexpected_error_is_500_without_its_text(
    api: TestClient, catalog: FailableCatalog
) -> None:
    catalog.fail_with(RuntimeError("password=hunter2 at db-internal:5432"))
    response = api.get(f"/api/v1/ingest/jobs/{uuid.uuid4()}")
    problem_of(response, 500, "internal")
    assert "hunter2" not in response.text and "db-internal" not in response.text


def test_lifespan_ensures_the_bucket_and_closes_the_queue(
    app: FastAPI, objects: FakeObjectStore, queue: FakeIngestQueue
) -> None:
    with TestClient(app):
        assert objects.bucket_ensured and not queue.closed
    assert queue.closed


def test_lifespan_migrates_an_empty_catalog_before_the_first_request(tmp_path: Path) -> None:
    app = create_app(settings_on(DatabaseSettings(url=f"sqlite:///{tmp_path}/new.db")))
    app.state.container.queue.override(providers.Object(FakeIngestQueue()))
    with TestClient(app) as client:
        assert migrate.current(app.state.container.catalog()) == migrate.head()
        problem_of(client.get(f"/api/v1/ingest/jobs/{uuid.uuid4()}"), 404, "job-not-found")


def test_verify_lists_each_problem_and_repair_mends_it(
    api: TestClient, vectors: FakeVectorStore
) -> None:
    """The route's contract; each kind of problem is the checker's own tests' business."""
    image_id = image_id_of(b"bytes gone")
    vectors.upsert([_record(image_id)])
    found = api.post("/api/v1/admin/verify", json={}).json()
    assert found == {
        "counts": {
            "catalog": 0,
            "index": 1,
            "originals": 0,
            "thumbnails": 0,
            "staging": 0,
            "quarantined": 0,
        },
        "problems": [
            {
                "kind": "index-without-bytes",
                "image_id": image_id,
                "detail": "indexed, but its original is gone",
                "repaired": False,
            }
        ],
        "unrepaired": 1,
    }
    mended = api.post("/api/v1/admin/verify", json={"repair": True}).json()
    assert ([p["repaired"] for p in mended["problems"]], mended["unrepaired"]) == ([True], 0)
    assert api.post("/api/v1/admin/verify", json={}).json()["problems"] == []


def test_verify_with_a_bad_body_is_422_validation(api: TestClient) -> None:
    body = problem_of(api.post("/api/v1/admin/verify", json={"repair": "maybe"}), 422, "validation")
    assert body["errors"][0]["loc"] == ["body", "repair"]
