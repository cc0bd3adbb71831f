"""``make bench-search``: text-embedding time alone, and search p50/p99 over 200 queries against
10k and 100k indexed vectors (synthetic, 512-d like ViT-B-32), in one run on one machine:
Milvus alone, and the whole HTTP path through searchapi (text → CLIP → Milvus → cutoff → JSON).

Each size is measured only once Milvus has finished building its index over every row (until then
searches scan unindexed segments and the build competes for the CPU), has compacted the segments
the load made and indexed the result (``settle``: else it does so on its own under the queries),
and has gone quiet; the bench says how long each took. Encoder and searchapi run the same runtime
(``--runtime``, searchapi's ``auto`` by default). For each HTTP pass it reads searchapi's
``search_stage_seconds`` to show where the time went. A few searches of other texts come first:
the first search of a process takes the cutoff's background sample, once, and a running server
has taken it. The encoder is timed in this process in turn with each HTTP query, so both meet the
same load on a shared machine; the last table sets them side by side at each size with PASS or
FAIL against the targets: HTTP p50 at most 15 ms over the encoder's, and p99 at most twice p50.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import get_args

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from searchapi.config import CutoffOptions  # noqa: E402
from shared.config import ModelSettings  # noqa: E402
from shared.domain import ImageRecord  # noqa: E402
from shared.embedding import ClipEmbedder  # noqa: E402
from shared.vector_schema import to_row  # noqa: E402
from tests.support.servers import running_servers  # noqa: E402
from tests.support.stack import Stack  # noqa: E402
from tools.process_figures import tree_cpu_seconds  # noqa: E402

NOUNS = "cat dog car house tree beach city mountain boat bridge garden street market forest river"
NOUNS += " train bicycle kitchen lamp window"
ADJECTIVES = ("red", "old", "tiny", "happy", "wet", "blue", "wooden", "bright", "quiet", "busy")
QUERIES = [
    f"a photo of {adj} {noun} number {i}"
    for i, (adj, noun) in enumerate((a, n) for a in ADJECTIVES for n in NOUNS.split())
]
TOP = 20
STAGES = ("embed_text", "milvus", "cutoff")
ENCODER_ROW = "text embedding, servers up"
HTTP_ROW = "HTTP text search (new query)"
WARM_UP = 5  # searches before the timed ones
TARGET_OVER_MS = 15.0
TARGET_TAIL = 2.0
Row = tuple[str, int, float, float, str]


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_ms(fn: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def http_search(client: httpx.Client, url: str, text: str) -> None:
    client.get(url, params={"text": text, "limit": TOP}).raise_for_status()


def fill(stack: Stack, dim: int, start: int, count: int, rng: np.random.Generator) -> None:
    """Insert ``count`` random unit vectors; ids are SHA-256 hex digests, as real ones are."""
    index = stack.index()
    collection = index.target()
    assert collection is not None
    for offset in range(start, start + count, 5000):
        rows = rng.standard_normal((min(5000, start + count - offset), dim)).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        records = [
            ImageRecord(
                id=hashlib.sha256(str(offset + i).encode()).hexdigest(),
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
        index.client.insert(collection, [to_row(r) for r in records])
    index.client.flush(collection)


def wait_for_index(stack: Stack, rows: int, deadline_s: float = 1800) -> float:
    """Seconds until Milvus reports every row indexed and nothing pending."""
    index = stack.index()
    collection = index.target()
    assert collection is not None
    [name] = index.client.list_indexes(collection)
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        state = index.client.describe_index(collection, name)
        if state.get("pending_index_rows", 0) == 0 and state.get("indexed_rows", 0) >= rows:
            return time.monotonic() - started
        time.sleep(1)  # a progress poll of an external server, not test synchronisation
    raise TimeoutError(f"index of {collection} not built after {deadline_s} s: {state}")


def settle(stack: Stack, rows: int) -> tuple[float, float]:
    """Seconds to compact and re-index, then until Milvus is quiet: left alone, Milvus merges the
    segments a bulk load made a minute or so after their index is built, and rebuilds the index on
    both cores for minutes, under the queries."""
    started = time.monotonic()
    index = stack.index()
    collection = index.target()
    job = index.client.compact(collection)
    while index.client.get_compaction_state(job) != "Completed":
        time.sleep(1)  # a progress poll of an external server, not test synchronisation
        if time.monotonic() - started > 1800:
            raise TimeoutError(f"compaction of {collection} not finished after 1800 s")
    wait_for_index(stack, rows)
    compacted = time.monotonic() - started
    milvus = stack.servers.milvus.proc
    assert milvus is not None
    return compacted, wait_for_quiet(milvus.pid)


def wait_for_quiet(pid: int, deadline_s: float = 1800) -> float:
    """Seconds until the process has used under a quarter of a core for 15 s in a row."""
    started, quiet_since = time.monotonic(), time.monotonic()
    before = tree_cpu_seconds({"milvus": pid})["milvus"]
    while time.monotonic() - started < deadline_s:
        time.sleep(5)  # a CPU sampling window, not test synchronisation
        after = tree_cpu_seconds({"milvus": pid})["milvus"]
        if after - before > 5 * 0.25:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 15:
            return time.monotonic() - started
        before = after
    raise TimeoutError(f"Milvus still busy after {deadline_s} s")


def stage_totals(client: httpx.Client, base_url: str) -> dict[str, tuple[float, float]]:
    """(seconds, count) per search stage so far, from searchapi's /metrics."""
    totals: dict[str, list[float]] = {stage: [0.0, 0.0] for stage in STAGES}
    for family in text_string_to_metric_families(client.get(f"{base_url}/metrics").text):
        if family.name != "search_stage_seconds":
            continue
        for sample in family.samples:
            stage = sample.labels.get("stage", "")
            if stage in totals and sample.name.endswith(("_sum", "_count")):
                totals[stage][sample.name.endswith("_count")] += sample.value
    return {stage: (s, n) for stage, (s, n) in totals.items()}


def stage_means(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> str:
    means = []
    for stage in STAGES:
        seconds, count = (after[stage][i] - before[stage][i] for i in (0, 1))
        if count:
            means.append(f"{stage} {seconds / count * 1000:.1f}")
    return ", ".join(means)


def measure_http(stack: Stack, size: int, queries: list[str], embedder: ClipEmbedder) -> list[Row]:
    base = stack.urls["searchapi"]
    url = f"{base}/api/v1/image/search"
    rows: list[Row] = []
    with httpx.Client(timeout=60) as client:
        for i in range(WARM_UP):
            http_search(client, url, f"{size} warm-up {i}")
        # New queries, each just after the same text through this process's encoder, so that
        # both meet the same machine: on a shared one the load drifts between two passes.
        before = stage_totals(client, base)
        alone, fresh = [], []
        for q in queries:
            alone.append(time_ms(embedder.embed_texts, [f"{size} {q}"]))
            fresh.append(time_ms(http_search, client, url, f"{size} {q}"))
        stages = stage_means(before, stage_totals(client, base))
        rows.append((ENCODER_ROW, size, *percentiles(alone), "(in turn with:)"))
        rows.append((HTTP_ROW, size, *percentiles(fresh), stages))
        # then the same queries from the text cache; then what identity costs a request: the
        # cached queries with an API key (looked up in the catalog each time), not anonymously
        for label, key in (
            ("HTTP text search (cached)", None),
            ("HTTP cached, with API key", stack.admin_key),
        ):
            if key:
                client.headers["Authorization"] = f"Bearer {key}"
            before = stage_totals(client, base)
            samples = [time_ms(http_search, client, url, f"{size} {q}") for q in queries]
            stages = stage_means(before, stage_totals(client, base))
            rows.append((label, size, *percentiles(samples), stages))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--runtime",
        default="auto",
        choices=get_args(ModelSettings.model_fields["runtime"].annotation),
        help="searchapi's and the encoder's (conf/searchapi.yaml: auto)",
    )
    args = parser.parse_args()
    queries = QUERIES[: args.queries]
    rng = np.random.default_rng(0)
    pool = CutoffOptions().pool

    settings = ModelSettings(name="ViT-B-32", pretrained="", device="cpu", runtime=args.runtime)
    embedder = ClipEmbedder(settings)
    embedder.load()
    text_ms = [time_ms(embedder.embed_texts, [q]) for q in queries]
    rows: list[Row] = []
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
            stack.start_searchapi(RATE_LIMIT__SEARCH="100000/minute", MODEL__RUNTIME=args.runtime)
            indexed = 0
            for size in (10_000, 100_000):
                fill(stack, embedder.identity.dim, indexed, size - indexed, rng)
                indexed = size
                waited = wait_for_index(stack, size)
                compacted, quiet = settle(stack, size)
                print(
                    f"{size} vectors: waited {waited:.0f} s for the index to finish building, "
                    f"{compacted:.0f} s to compact and re-index it, {quiet:.0f} s for Milvus "
                    "to go quiet"
                )
                vectors = stack.vectors()
                probes = [embedder.embed_texts([q])[0] for q in queries]
                milvus_ms = [time_ms(vectors.search, v, TOP) for v in probes]
                rows.append(("Milvus search alone", size, *percentiles(milvus_ms), f"top {TOP}"))
                # what a search adds when its matches run past the page: the pool's scores
                pool_ms = [time_ms(vectors.scores, v, pool) for v in probes]
                rows.append(("Milvus, pool's scores alone", size, *percentiles(pool_ms), f"{pool}"))
                rows += measure_http(stack, size, queries, embedder)
        finally:
            stack.stop_all()
    report(text_ms, rows, len(queries), embedder.runtime)


def report(text_ms: list[float], rows: list[Row], queries: int, runtime: str) -> None:
    text_p50, text_p99 = percentiles(text_ms)
    print(
        f"\nsearch: {queries} queries, ViT-B-32 architecture on CPU ({runtime}), 512-d HNSW (M=16, "
        f"ef = max(64, limit)), top {TOP}; stages: searchapi's search_stage_seconds"
    )
    print(f"{'measure':<30}{'vectors':>9}{'p50 ms':>9}{'p99 ms':>9}  mean ms per stage")
    print(f"{'text embedding, no servers':<30}{'-':>9}{text_p50:>9.1f}{text_p99:>9.1f}")
    for label, size, p50, p99, stages in rows:
        print(f"{label:<30}{size:>9}{p50:>9.1f}{p99:>9.1f}  {stages}")
    verdicts(rows)


def verdicts(rows: list[Row]) -> None:
    """Each size's new-query HTTP search against the encoder timed in turn with it, and the
    targets: HTTP p50 at most ``TARGET_OVER_MS`` over the encoder's, p99 at most twice p50."""
    print(
        f"\ntargets: HTTP p50 - encoder p50 <= {TARGET_OVER_MS:g} ms, HTTP p99 / p50 <= "
        f"{TARGET_TAIL:g} (the encoder timed in turn with each HTTP query, on the same load)"
    )
    print(
        f"{'vectors':>9}{'enc p50':>9}{'enc p99':>9}{'HTTP p50':>10}{'HTTP p99':>10}"
        f"{'p50 diff':>10}{'p99/p50':>9}  verdict"
    )
    encoders = {size: (p50, p99) for label, size, p50, p99, _ in rows if label == ENCODER_ROW}
    for label, size, p50, p99, _ in rows:
        if label != HTTP_ROW:
            continue
        enc_p50, enc_p99 = encoders[size]
        over, tail = p50 - enc_p50, p99 / p50
        verdict = "PASS" if over <= TARGET_OVER_MS and tail <= TARGET_TAIL else "FAIL"
        print(
            f"{size:>9}{enc_p50:>9.1f}{enc_p99:>9.1f}{p50:>10.1f}{p99:>10.1f}{over:>10.1f}"
            f"{tail:>9.2f}  {verdict}"
        )


if __name__ == "__main__":
    main()
