"""The whole ingest path on real parts: ingestapi → Redis → worker → MinIO + Milvus."""

import io

import httpx
import pytest
from PIL import Image

from shared.domain import image_id_of, original_key, staging_key, thumb_key
from tests.support.images import encode, jpeg_with_exif, picture
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

from .conftest import WORKER_MAX_PIXELS

FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}


def _upload(client: httpx.Client, *files: tuple[str, bytes]) -> httpx.Response:
    return client.post("/api/v1/ingest", files=[("files", (name, data)) for name, data in files])


def test_ingest_two_files_reach_done_and_are_stored(client: httpx.Client, stack: Stack) -> None:
    a = encode(picture(64, 48, (250, 10, 10)), "JPEG")
    b = encode(picture(80, 60, (10, 10, 250)), "PNG")
    response = _upload(client, ("a.jpg", a), ("b.png", b))
    assert response.status_code == 202
    jobs = response.json()["jobs"]
    assert [(j["filename"], j["state"], j["image_id"]) for j in jobs] == [
        ("a.jpg", "queued", image_id_of(a)),
        ("b.png", "queued", image_id_of(b)),
    ]
    for job in jobs:
        assert wait_for_job(client, stack.urls["ingestapi"], job["job_id"])["state"] == "done"

    objects = stack.objects()
    for data, mime, (width, height) in ((a, "image/jpeg", (64, 48)), (b, "image/png", (80, 60))):
        image_id = image_id_of(data)
        assert objects.get(original_key(image_id)) == data
        assert objects.stat(original_key(image_id)).content_type == mime
        assert objects.stat(thumb_key(image_id)).content_type == "image/webp"
        assert not objects.exists(staging_key(image_id))
        [record] = stack.vectors().get([image_id], with_vectors=True, strong=True)
        assert (record.width, record.height, record.bytes) == (width, height, len(data))
        assert record.embedding is not None
        assert abs(float((record.embedding**2).sum()) - 1.0) < 1e-4


def test_same_bytes_again_answer_duplicate_without_reembedding(
    client: httpx.Client, stack: Stack
) -> None:
    data = encode(picture(50, 50, (0, 200, 0)), "PNG")
    first = _upload(client, ("g.png", data)).json()["jobs"][0]
    assert wait_for_job(client, stack.urls["ingestapi"], first["job_id"])["state"] == "done"
    [before] = stack.vectors().get([image_id_of(data)], strong=True)

    again = _upload(client, ("same-bytes-other-name.png", data))
    assert again.status_code == 202
    [job] = again.json()["jobs"]
    assert (job["state"], job["image_id"]) == ("duplicate", image_id_of(data))
    status = client.get(f"/api/v1/ingest/jobs/{job['job_id']}").json()
    assert status["state"] == "duplicate"
    [after] = stack.vectors().get([image_id_of(data)], strong=True)
    assert after.ingested_at == before.ingested_at  # not re-embedded or rewritten


def test_same_bytes_twice_in_one_request_are_queued_once(
    client: httpx.Client, stack: Stack
) -> None:
    data = encode(picture(52, 52, (0, 90, 180)), "PNG")
    image_id = image_id_of(data)
    first, second = _upload(client, ("one.png", data), ("two.png", data)).json()["jobs"]
    assert (first["state"], second["state"]) == ("queued", "duplicate")
    assert first["image_id"] == second["image_id"] == image_id
    assert wait_for_job(client, stack.urls["ingestapi"], first["job_id"])["state"] == "done"
    assert client.get(f"/api/v1/ingest/jobs/{second['job_id']}").json()["state"] == "duplicate"
    assert len(stack.vectors().get([image_id], strong=True)) == 1
    assert {key for key in stack.objects().keys("") if image_id in key} == {
        original_key(image_id),
        thumb_key(image_id),
    }


def test_image_the_worker_refuses_fails_with_its_reason_and_leaves_nothing(
    client: httpx.Client, stack: Stack
) -> None:
    """ingestapi allows it, the worker's lower pixel cap does not (see conftest)."""
    width, height = WORKER_MAX_PIXELS // 1000 + 200, 1000
    data = encode(picture(width, height, (30, 160, 60)), "PNG")
    image_id = image_id_of(data)
    [job] = _upload(client, ("too-big-for-the-worker.png", data)).json()["jobs"]
    assert job["state"] == "queued"
    failed = wait_for_job(client, stack.urls["ingestapi"], job["job_id"])
    assert failed["state"] == "failed"
    assert f"{width}x{height}" in failed["error"] and "limit" in failed["error"]
    wait_until(
        lambda: not [key for key in stack.objects().keys("") if image_id in key],
        10,
        "the failed image's objects to be gone",
    )
    assert stack.vectors().get([image_id], strong=True) == []


def test_every_supported_format_is_ingested(client: httpx.Client, stack: Stack) -> None:
    files = [
        (f"pic.{fmt.lower()}", encode(picture(40 + i, 30, (i * 40, 90, 200)), fmt))
        for i, fmt in enumerate(FORMATS)
    ]
    jobs = _upload(client, *files).json()["jobs"]
    for job in jobs:
        assert wait_for_job(client, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    records = {r.id: r for r in stack.vectors().get([j["image_id"] for j in jobs], strong=True)}
    assert [records[j["image_id"]].format for j in jobs] == list(FORMATS)
    for job, fmt in zip(jobs, FORMATS, strict=True):
        assert stack.objects().stat(original_key(job["image_id"])).content_type == FORMATS[fmt]


def test_exif_metadata_and_orientation_are_indexed(client: httpx.Client, stack: Stack) -> None:
    data = jpeg_with_exif(orientation=6)
    [job] = _upload(client, ("camera.jpg", data)).json()["jobs"]
    assert wait_for_job(client, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    [record] = stack.vectors().get([image_id_of(data)], strong=True)
    assert (record.width, record.height) == (48, 64)
    assert record.meta["exif"]["make"] == "Canon"
    assert record.meta["exif"]["datetime_original"] == "2024:05:06 07:08:09"
    assert record.meta["exif"]["gps"]["latitude"] == pytest.approx(-33.86)
    thumb = stack.objects().get(thumb_key(image_id_of(data)))
    assert Image.open(io.BytesIO(thumb)).size == (48, 64)


def test_request_that_is_not_multipart_is_400(client: httpx.Client) -> None:
    response = client.post("/api/v1/ingest", json={"files": []})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_request_without_files_is_400(client: httpx.Client) -> None:
    response = client.post("/api/v1/ingest", files=[("other", ("x.png", b"x"))])
    assert response.status_code == 400
    assert "no files" in response.json()["detail"]


def test_unknown_job_is_404_and_malformed_job_id_is_400(client: httpx.Client) -> None:
    assert client.get("/api/v1/ingest/jobs/3f1b6c1e-0000-4000-8000-000000000000").status_code == 404
    response = client.get("/api/v1/ingest/jobs/not-a-uuid")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_delete_removes_vector_and_bytes(client: httpx.Client, stack: Stack) -> None:
    data = encode(picture(20, 20, (5, 5, 5)), "PNG")
    [job] = _upload(client, ("del.png", data)).json()["jobs"]
    assert wait_for_job(client, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    image_id = image_id_of(data)
    assert client.delete(f"/api/v1/ingest/images/{image_id}").status_code == 204
    assert stack.vectors().get([image_id], strong=True) == []
    assert not stack.objects().exists(original_key(image_id))
    assert not stack.objects().exists(thumb_key(image_id))
    assert client.delete(f"/api/v1/ingest/images/{image_id}").status_code == 404
    assert client.delete("/api/v1/ingest/images/NOT-AN-ID").status_code == 400


def test_ops_endpoints(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "redis": True,
        "catalog": True,
        "minio": True,
        "milvus": True,
    }
    metrics = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in metrics
