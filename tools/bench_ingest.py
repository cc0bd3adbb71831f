"""``make bench-ingest``: images/s through the real pipeline (ingestapi → Redis → worker → MinIO +
Milvus), on servers of its own, for the tiny demo model and for ViT-B-32's architecture.

ViT-B-32 runs with untrained weights here (no model hub): the compute, and so the speed, is the
production model's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from imagesearch_samples.shapes import samples  # noqa: E402
from tests.support.images import encode  # noqa: E402
from tests.support.servers import running_servers  # noqa: E402
from tests.support.stack import Stack, wait_for_job  # noqa: E402

MODELS = {"tiny-shapes": None, "ViT-B-32": ""}  # None: the committed checkpoint; "": untrained


def _pictures(n: int, size: int, seed: int) -> list[tuple[str, bytes]]:
    return [
        (f"{s.colour}-{s.shape}-{i}.jpg", encode(img, "JPEG", quality=88))
        for i, (s, img) in enumerate(samples(n, seed=seed, image_size=size))
    ]


def run(stack: Stack, pictures: list[tuple[str, bytes]], batch: int) -> float:
    url = stack.urls["ingestapi"]
    with httpx.Client(timeout=300, headers=stack.auth_headers()) as client:
        started = time.perf_counter()
        jobs = []
        for i in range(0, len(pictures), batch):
            files = [("files", item) for item in pictures[i : i + batch]]
            jobs += client.post(f"{url}/api/v1/ingest", files=files).json()["jobs"]
        states = [wait_for_job(client, url, job["job_id"], timeout=900)["state"] for job in jobs]
        elapsed = time.perf_counter() - started
    assert states.count("done") == len(pictures), f"not all done: {set(states)}"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=640, help="picture side in px")
    parser.add_argument("--batch", type=int, default=20, help="files per request")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as work, running_servers(Path(work)) as servers:
        for number, (model, weights) in enumerate(MODELS.items()):
            stack = Stack(
                servers=servers,
                name=f"bench-{number}",
                redis_db=number + 1,
                model_name=model,
                **({} if weights is None else {"model_weights": weights}),
            )
            try:
                stack.start_ingestapi()
                stack.start_worker()
                pictures = _pictures(args.images, args.size, seed=1000 + number)
                elapsed = run(stack, pictures, args.batch)
                rows.append((model, len(pictures), elapsed))
            finally:
                stack.stop_all()
    print(
        f"\ningest: {args.images} JPEGs of {args.size}x{args.size} px, {args.batch} per request, "
        f"one worker (threads, batched embedding), CPU"
    )
    print(f"{'model':<14}{'images':>8}{'seconds':>10}{'images/s':>10}")
    for model, count, elapsed in rows:
        print(f"{model:<14}{count:>8}{elapsed:>10.1f}{count / elapsed:>10.1f}")


if __name__ == "__main__":
    main()
