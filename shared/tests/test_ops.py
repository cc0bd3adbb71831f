"""The ops endpoints and the metrics registry, in-process: apps built here, no servers needed."""

import asyncio
import signal
import threading
from collections.abc import Iterator, Mapping

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from shared.ops import OpsServer, new_registry, ops_router
from shared.web import PROBLEM_JSON, install_access_log, install_problem_handlers

ALL_UP = {"redis": True, "milvus": True}


def _app(
    registry: CollectorRegistry, checks: Mapping[str, bool] = ALL_UP, model: str = "tiny"
) -> FastAPI:
    """An app wired the way the services wire theirs: problems, access log, ops router."""
    app = FastAPI()
    install_problem_handlers(app)
    install_access_log(app, registry)
    app.include_router(ops_router(registry, lambda: checks, lambda: {"model": model}))
    return app


def _requests(registry: CollectorRegistry, route: str, status: str = "200") -> float | None:
    labels = {"method": "GET", "route": route, "status": status}
    return registry.get_sample_value("http_requests_total", labels)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_app(new_registry())) as client:
        yield client


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_with_every_check_and_the_info(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_UP, "model": "tiny"}


def test_readyz_is_503_naming_the_failing_check() -> None:
    with TestClient(_app(new_registry(), {"redis": True, "milvus": False})) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"] == {"redis": True, "milvus": False}


def test_readyz_runs_the_blocking_checks_off_the_event_loop() -> None:
    seen: list[int] = []

    def readiness() -> Mapping[str, bool]:
        seen.append(threading.get_ident())
        return ALL_UP

    app = FastAPI()
    app.include_router(ops_router(new_registry(), readiness))

    async def probe() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
            return (await client.get("/readyz")).status_code

    assert asyncio.run(probe()) == 200  # the loop runs on this thread
    assert seen and seen[0] != threading.get_ident()


def test_metrics_is_prometheus_text_with_the_apps_own_requests() -> None:
    registry = new_registry()
    with TestClient(_app(registry)) as client:
        client.get("/healthz")
        client.get("/healthz")
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in response.text
    assert "process_cpu_seconds_total" in response.text  # the registry carries process facts
    assert _requests(registry, "/healthz") == 2


def test_metrics_carry_each_readiness_check_as_one_or_zero_asked_off_the_event_loop() -> None:
    asked: list[int] = []

    def readiness() -> Mapping[str, bool]:
        asked.append(threading.get_ident())
        return {"redis": True, "milvus": False}

    app = FastAPI()
    app.include_router(ops_router(new_registry(), readiness))

    async def scrape() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
            return (await client.get("/metrics")).text

    text = asyncio.run(scrape())  # the loop runs on this thread
    assert 'readiness_check{check="redis"} 1.0' in text
    assert 'readiness_check{check="milvus"} 0.0' in text
    assert asked and asked[0] != threading.get_ident()


def test_two_apps_in_one_process_keep_separate_counts() -> None:
    first, second = new_registry(), new_registry()
    with TestClient(_app(first)) as one, TestClient(_app(second)) as other:
        for _ in range(3):
            one.get("/healthz")
        other.get("/healthz")
        other.get("/nowhere")
    assert _requests(first, "/healthz") == 3
    assert _requests(second, "/healthz") == 1
    assert _requests(second, "unmatched", "404") == 1
    assert _requests(first, "unmatched", "404") is None


def test_worker_ops_server_answers_on_its_port_and_stops() -> None:
    registry = new_registry()
    ours = signal.signal(signal.SIGTERM, lambda *_: None)  # stands in for Celery's handler
    try:
        handler = signal.getsignal(signal.SIGTERM)
        server = OpsServer(ops_router(registry, lambda: ALL_UP), "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{server.port}"
        try:
            healthz = httpx.get(f"{url}/healthz", timeout=10)
            missing = httpx.get(f"{url}/nowhere", timeout=10)
            assert signal.getsignal(signal.SIGTERM) is handler  # uvicorn left it alone
        finally:
            server.stop()
    finally:
        signal.signal(signal.SIGTERM, ours)

    assert healthz.status_code == 200
    assert healthz.json() == {"status": "ok"}
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["type"] == "urn:imagesearch:problem:http-404"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
