"""Redis or Milvus down, on real parts: ingestapi and searchapi answer 503 and store nothing.

The servers here are a private set, so stopping one never disturbs another suite; each test brings
its server back and checks that the services recover. No worker runs, so whatever ingestapi
staged or queued stays where the test can count it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.images import encode, picture
from tests.support.processes import ROOT, http_ok, wait_until
from tests.support.servers import Servers, running_servers
from tests.support.stack import Stack
from tests.support.stored import stored

UNAVAILABLE = "urn:imagesearch:problem:dependency-unavailable"
# Its servers are private, not the `servers` fixture the root conftest marks by: say it here.
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def private_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    work = Path(tmp_path_factory.mktemp("outage-servers"))
    with running_servers(work, ROOT / "artifacts" / "logs" / "outages") as servers:
        yield servers


@pytest.fixture(scope="module")
def stack(private_servers: Servers) -> Iterator[Stack]:
    stack = Stack(servers=private_servers, name="outages", redis_db=0)
    # Milvus calls give up after 3 s, so an outage is answered in seconds.
    stack.start_searchapi(MILVUS__TIMEOUT_S="3")  # first: it creates the index ingestapi reads
    stack.start_ingestapi(MILVUS__TIMEOUT_S="3")
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def ingest(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("ingestapi") as client:
        yield client


@pytest.fixture(scope="module")
def search(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("searchapi") as client:
        yield client


def _upload(client: httpx.Client, data: bytes) -> httpx.Response:
    return client.post("/api/v1/ingest", files=[("files", ("outage.png", data))])


def _text_search(client: httpx.Client) -> httpx.Response:
    return client.get("/api/v1/image/search", params={"text": "a red circle"})


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == UNAVAILABLE
    assert response.headers["retry-after"]


def test_redis_down_upload_is_503_and_nothing_is_kept_while_jobs_still_answer(
    stack: Stack, ingest: httpx.Client
) -> None:
    """The broker is down: nothing can be queued, so nothing is kept (no staged bytes, no job
    record); the job history lives in the catalog and still answers."""
    [job] = _upload(ingest, encode(picture(30, 30, (200, 0, 0)), "PNG")).json()["jobs"]
    refused = encode(picture(31, 31, (0, 200, 0)), "PNG")
    before = stored(stack)
    stack.servers.redis.stop()
    try:
        _assert_unavailable(_upload(ingest, refused))
        status = ingest.get(f"/api/v1/ingest/jobs/{job['job_id']}")
        assert (status.status_code, status.json()["state"]) == (200, "queued")
        ready = ingest.get("/readyz")
        assert (ready.status_code, ready.json()["checks"]["redis"]) == (503, False)
    finally:
        stack.servers.restart_redis()
    after = stored(stack)
    assert (after.objects, after.jobs) == (before.objects, before.jobs)
    recovered = _upload(ingest, refused)
    assert recovered.status_code == 202, recovered.text
    assert recovered.json()["jobs"][0]["state"] == "queued"


def test_milvus_down_search_is_503_while_uploads_are_still_accepted(
    stack: Stack, ingest: httpx.Client, search: httpx.Client
) -> None:
    """The index is down: search cannot answer, but ingest dedups against the catalog and keeps
    accepting (bytes staged, job queued for when the index is back)."""
    assert _text_search(search).status_code == 200
    stack.servers.milvus.stop()
    try:
        _assert_unavailable(_text_search(search))
        accepted = _upload(ingest, encode(picture(33, 33, (0, 90, 200)), "PNG"))
        assert accepted.status_code == 202, accepted.text
        [job] = accepted.json()["jobs"]
        assert job["state"] == "queued"
        assert f"staging/{job['image_id']}" in stored(stack).objects
    finally:
        stack.servers.restart_milvus()
    wait_until(lambda: http_ok(f"{stack.urls['searchapi']}/readyz"), 120, "searchapi to recover")
    wait_until(lambda: http_ok(f"{stack.urls['ingestapi']}/readyz"), 120, "ingestapi to recover")
    assert _text_search(search).status_code == 200
    assert _upload(ingest, encode(picture(32, 32, (0, 0, 200)), "PNG")).status_code == 202
