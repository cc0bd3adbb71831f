"""Crashes and outages on real parts: nothing a 202 accepted is ever lost."""

import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.domain import image_id_of, original_key
from tests.support.images import encode, picture
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job
from tests.support.stored import stored

# Short, so a crashed worker's task is re-delivered within seconds; jobs here take ~1-3 s.
FAST_REDELIVERY = {"WORKER__VISIBILITY_TIMEOUT_S": "10"}


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("resilience")
    stack.start_ingestapi()
    yield stack
    stack.stop_all()


@pytest.fixture()
def client(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("ingestapi", timeout=60) as client:
        yield client


def _state(client: httpx.Client, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/ingest/jobs/{job_id}").json()
    return body


def _slow_image() -> bytes:
    """~40 MP: seconds of decoding and resizing, so the job can be caught mid-flight."""
    return encode(picture(8000, 5000, (10, 120, 200)), "JPEG", quality=85)


def test_job_completes_after_worker_is_killed_mid_job(client: httpx.Client, stack: Stack) -> None:
    data = _slow_image()
    first = stack.start_worker("worker-a", **FAST_REDELIVERY)
    [job] = client.post("/api/v1/ingest", files=[("files", ("big.jpg", data))]).json()["jobs"]

    wait_until(
        lambda: _state(client, job["job_id"])["state"] == "processing",
        60,
        "processing",
        interval=0.02,
    )
    first.kill()  # SIGKILL: no warm shutdown, no ack
    assert _state(client, job["job_id"])["state"] == "processing"  # it really died mid-job

    stack.start_worker("worker-b", **FAST_REDELIVERY)
    assert (
        wait_for_job(client, stack.urls["ingestapi"], job["job_id"], timeout=120)["state"] == "done"
    )
    assert stack.objects().get(original_key(image_id_of(data))) == data
    assert len(stack.vectors().get([image_id_of(data)], strong=True)) == 1
    stack.stop("worker-b")


def test_minio_outage_is_retried_and_nothing_is_lost(client: httpx.Client, stack: Stack) -> None:
    worker = stack.start_worker("worker-c", WORKER__RETRY_BACKOFF_MAX_S="2")
    data = encode(picture(70, 70, (250, 200, 0)), "PNG")
    worker.signal(signal.SIGSTOP)  # hold the worker while the job is accepted
    try:
        [job] = client.post("/api/v1/ingest", files=[("files", ("y.png", data))]).json()["jobs"]
        assert job["state"] == "queued"
        stack.servers.minio.stop()
    finally:
        worker.signal(signal.SIGCONT)
    try:
        retrying = wait_until(
            lambda: (
                (s := _state(client, job["job_id"]))["error"] and "retrying" in s["error"] and s
            ),
            60,
            "the job to be retried",
        )
        assert retrying["state"] == "queued"
    finally:
        stack.servers.restart_minio()
    assert (
        wait_for_job(client, stack.urls["ingestapi"], job["job_id"], timeout=120)["state"] == "done"
    )
    assert stack.objects().get(original_key(image_id_of(data))) == data
    stack.stop("worker-c")


def test_upload_while_minio_is_down_is_503_and_nothing_is_staged_or_queued(
    client: httpx.Client, stack: Stack
) -> None:
    for worker in [name for name in stack.processes if name != "ingestapi"]:
        stack.stop(worker)  # nothing may consume the queue while its length is compared
    data = encode(picture(71, 71, (1, 2, 3)), "PNG")
    before = stored(stack)
    stack.servers.minio.stop()
    try:
        response = client.post("/api/v1/ingest", files=[("files", ("z.png", data))])
    finally:
        stack.servers.restart_minio()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:imagesearch:problem:dependency-unavailable"
    assert response.headers["retry-after"]
    assert stored(stack) == before
