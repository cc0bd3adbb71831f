"""``make bench-search``: text-embedding time alone, and search p50/p99 over 200 queries against
10k and 100k indexed vectors (synthetic, 512-d like ViT-B-32), in one run on one machine:
Milvus alone, and the whole HTTP path through searchapi (text → CLIP → Milvus → JSON).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from shared.config import ModelSettings  # noqa: E402
from shared.domain import ImageRecord  # noqa: E402
from shared.embedding import ClipEmbedder  # noqa: E402
from shared.vectors import VectorStore  # noqa: E402
from tests.support.servers import running_servers  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

QUERIES = [
    f"a photo of {adj} {noun} number {i}"
    for i, (adj, noun) in enumerate(
        (a, n)
        for a in ("red", "old", "tiny", "happy", "wet", "blue", "wooden", "bright", "quiet", "busy")
        for n in (
            "cat",
            "dog",
            "car",
            "house",
            "tree",
            "beach",
            "city",
            "mountain",
            "boat",
            "bridge",
            "garden",
            "street",
            "market",
            "forest",
            "river",
            "train",
            "bicycle",
            "kitchen",
            "lamp",
            "window",
        )
    )
]


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_ms(fn: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def http_search(client: httpx.Client, url: str, text: str) -> None:
    client.get(url, params={"text": text}).raise_for_status()


def fill(stack: Stack, dim: int, start: int, count: int, rng: np.random.Generator) -> None:
    index = stack.index()
    collection = index.target()
    vectors = VectorStore(index, collection)
    for offset in range(start, start + count, 5000):
        rows = rng.standard_normal((min(5000, start + count - offset), dim)).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        vectors.upsert(
            [
                ImageRecord(
                    id=f"{offset + i:064x}",
                    width=640,
                    height=480,
                    bytes=100_000,
                    format="JPEG",
                    filename=f"{offset + i}.jpg",
                    ingested_at=offset + i,
                    meta={},
                    embedding=row,
                )
                for i, row in enumerate(rows)
            ]
        )
    index.client.flush(collection)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    queries = QUERIES[: args.queries]
    rng = np.random.default_rng(0)

    embedder = ClipEmbedder(ModelSettings(name="ViT-B-32", pretrained="", device="cpu"))
    embedder.load()
    text_ms = [time_ms(embedder.embed_texts, [q]) for q in queries]
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory() as work, running_servers(Path(work)) as servers:
        stack = Stack(
            servers=servers,
            name="bench-search",
            redis_db=1,
            model_name="ViT-B-32",
            model_weights="",
        )
        try:
            # creates the collection for its model; the limit is counted (its Redis round trip is
            # part of every search) but set high enough for the benchmark's burst
            stack.start_searchapi(RATE_LIMIT__SEARCH="100000/minute")
            indexed = 0
            for size in (10_000, 100_000):
                fill(stack, embedder.identity.dim, indexed, size - indexed, rng)
                indexed = size
                vectors = stack.vectors()
                probes = [embedder.embed_texts([q])[0] for q in queries]
                milvus_ms = [time_ms(vectors.search, v, 20) for v in probes]
                rows.append(("Milvus search alone", size, *percentiles(milvus_ms)))
                url = f"{stack.urls['searchapi']}/api/v1/image/search"
                with httpx.Client(timeout=60) as client:
                    # the same queries twice: first through the text encoder, then from its cache
                    for label in ("HTTP text search (cold)", "HTTP text search (cached)"):
                        http_ms = [
                            time_ms(http_search, client, url, f"{size} {q}") for q in queries
                        ]
                        rows.append((label, size, *percentiles(http_ms)))
                    # what identity costs a request: the same cached queries with an API key
                    # (looked up in the catalog on every request) instead of anonymously
                    client.headers["Authorization"] = f"Bearer {stack.admin_key}"
                    keyed_ms = [time_ms(http_search, client, url, f"{size} {q}") for q in queries]
                    rows.append(("HTTP cached, with API key", size, *percentiles(keyed_ms)))
        finally:
            stack.stop_all()

    p50, p99 = percentiles(text_ms)
    print(
        f"\nsearch: {len(queries)} queries, ViT-B-32 architecture on CPU, "
        "512-d HNSW (M=16, ef=64), top 20"
    )
    print(f"{'measure':<28}{'vectors':>9}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{'text embedding alone':<28}{'-':>9}{p50:>9.1f}{p99:>9.1f}")
    for label, size, p50, p99 in rows:
        print(f"{label:<28}{size:>9}{p50:>9.1f}{p99:>9.1f}")


if __name__ == "__main__":
    main()
