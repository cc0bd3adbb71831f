"""Re-index on real parts: model A's index is rebuilt with model B, search answers throughout,
the alias moves in one step, and services configured for the wrong model refuse to start."""

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from imagesearch_samples.shapes import samples
from shared.embedding import TINY_MODEL, weights_id
from shared.vectors import VectorStore
from tests.support.images import encode
from tests.support.model_weights import seeded_weights
from tests.support.processes import ROOT
from tests.support.stack import Stack, wait_for_job

UNLIMITED = "1000000/minute"


def _model_b(directory: Path) -> str:
    """Model B: the tiny architecture with other (seeded, untrained) weights."""
    return seeded_weights(TINY_MODEL, 7, directory / "model-b.safetensors")


def _poll_search(url: str, stop: threading.Event, statuses: list[int]) -> None:
    """Twenty searches a second until stopped: a steady reader, not one that takes the CPU the
    re-index needs on a small machine."""
    with httpx.Client(timeout=30) as client:
        while not stop.wait(0.05):
            statuses.append(
                client.get(
                    f"{url}/api/v1/image/search", params={"text": "a red circle"}
                ).status_code
            )


def test_reindex_moves_the_alias_while_search_keeps_answering(
    stack_factory: Any, tmp_path: Path
) -> None:
    stack: Stack = stack_factory("reindex")
    try:
        with stack.starting_together():
            ingest_url = stack.start_ingestapi()
            stack.start_worker()
            # The test polls search without pause while the re-index runs: far above any limit.
            search_a = stack.start_searchapi(RATE_LIMIT__SEARCH=UNLIMITED)
        files = [
            ("files", (f"{s.colour}-{s.shape}-{i}.png", encode(img, "PNG")))
            for i, (s, img) in enumerate(samples(12, seed=99, image_size=96))
        ]
        with httpx.Client(timeout=60, headers=stack.auth_headers()) as client:
            jobs = client.post(f"{ingest_url}/api/v1/ingest", files=files).json()["jobs"]
            for job in jobs:
                assert wait_for_job(client, ingest_url, job["job_id"])["state"] == "done"
        index = stack.index()
        collection_a = index.target()
        assert collection_a is not None

        weights_b = _model_b(tmp_path)
        statuses: list[int] = []
        stop = threading.Event()
        poller = threading.Thread(target=_poll_search, args=(search_a, stop, statuses))
        poller.start()
        try:
            subprocess.run(
                [sys.executable, "-m", "searchapi.reindex"],
                cwd=ROOT,
                check=True,
                timeout=300,
                env=stack.env(MODEL__PRETRAINED=weights_b),
            )
        finally:
            stop.set()
            poller.join(timeout=60)
        assert statuses and set(statuses) == {200}, f"search answered {sorted(set(statuses))}"

        collection_b = index.target()
        assert collection_b is not None and collection_b != collection_a
        assert index.model_of(collection_b) == f"{TINY_MODEL}/{weights_id(weights_b)}"
        image_ids = [job["image_id"] for job in jobs]
        assert VectorStore(index, collection_b).existing_ids(image_ids) == set(image_ids)
        assert index.model_of(collection_a) != index.model_of(collection_b)

        # The running model-A service still answers from its own collection, and says it is stale.
        with httpx.Client(timeout=30) as client:
            ready = client.get(f"{search_a}/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["index_current"] is False
        stack.stop("searchapi")

        # A model-B service starts and finds what was indexed.
        search_b = stack.start_searchapi(MODEL__PRETRAINED=weights_b, RATE_LIMIT__SEARCH=UNLIMITED)
        with httpx.Client(timeout=30) as client:
            hits = client.get(
                f"{search_b}/api/v1/image/search", params={"text": "x", "limit": 50}
            ).json()
            assert len(hits["results"]) == len(files)
        stack.stop("searchapi")
        _assert_refuse_to_start(["searchapi", "ingestworker"], stack)
    finally:
        stack.stop_all()


def _assert_refuse_to_start(services: list[str], stack: Stack) -> None:
    """Configured for model A, against an index of model B: each exits non-zero and says how to
    re-index (started together: each spends its seconds loading the model)."""
    env = stack.env(HTTP__PORT="0", WORKER__HTTP_PORT="0")
    starts = {
        name: subprocess.Popen(
            [sys.executable, "-m", name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in services
    }
    try:
        for name, start in starts.items():
            output, _ = start.communicate(timeout=180)
            assert start.returncode != 0, name
            assert "re-index" in output, name
    finally:
        for start in starts.values():
            start.kill()  # only the one a timeout left running is still there
            start.wait()
