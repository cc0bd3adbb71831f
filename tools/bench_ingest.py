"""``make bench-ingest``: how close ingest comes to the speed of the machine, per model, in one run
on servers of its own (Redis, MinIO, Milvus; then ingestapi and a worker per model).

For each model it measures, side by side: the forward pass alone at the worker's batch size, the
CPU stage per picture (draft decode, thumbnail, the model's transform) on one core and on all
(``tools/ingest_stages.py``), each before and after the end-to-end run and averaged (this host's
speed drifts by up to a fifth between minutes), the limit they imply together, ``1 /
(cpu_stage_cost / cores + embed_cost)``; and in between, photo-like 1024x768 JPEGs uploaded
through ingestapi by several clients at once until every job is done: end-to-end images/s, its
ratio to the limit, and the worker's peak RSS. Then where the CPU went in that window, per
picture and per process (the worker, ingestapi, MinIO, Milvus, Redis, this client) beside what
the cores could give, and the forward pass as the pipeline ran it (mean batch, seconds per
picture) beside its time alone. The embedder runs with the worker's own model settings (conf +
env), device and runtime as asked; several runtimes (``--runtime torch,onnx``) run one after the
other on the same servers and pictures.
ViT-B-32 runs with untrained weights (no model hub), drawn from one seed and saved to a file: its
compute, and so its speed, is the production model's, and the worker starts as a production one
does, from a weights file whose ONNX export (made by the bench's own embedder) is cached.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CONF_DIR", str(ROOT / "conf"))

import httpx  # noqa: E402

from imagesearch_samples.shapes import samples  # noqa: E402
from ingestworker.config import WorkerSettings  # noqa: E402
from shared.catalog.jobs import JobStore  # noqa: E402
from shared.config import ModelSettings  # noqa: E402
from shared.embedding import TINY_CHECKPOINT, TINY_MODEL, ClipEmbedder, agreement  # noqa: E402
from tests.support.model_weights import seeded_weights  # noqa: E402
from tests.support.processes import wait_until  # noqa: E402
from tests.support.servers import Servers, running_servers  # noqa: E402
from tests.support.stack import Stack  # noqa: E402
from tools.ingest_report import Figures, report  # noqa: E402
from tools.ingest_stages import (  # noqa: E402
    cpu_stage_rate,
    embed_rate,
    min_side,
    photo_likes,
)
from tools.process_figures import CpuWindow, histogram_sums, peak_rss_mb  # noqa: E402

MODELS = {"tiny": (TINY_MODEL, str(TINY_CHECKPOINT)), "vit": ("ViT-B-32", "")}
ONE_CORE_PICTURES = 100  # enough for a steady rate on one core
FINISHED = ("done", "failed", "duplicate", "quarantined")


@dataclass
class Run:
    key: str  # of MODELS
    runtime: str  # "": the worker's configured one
    number: int  # the stack's: its Redis database, its directory
    models: Path  # weights files and ONNX exports


def model_settings(key: str, device: str, runtime: str, models: Path) -> ModelSettings:
    """The worker's model settings (conf/ingestworker.yaml + env), for ``key``'s model, its
    weights in a file and its exports cached in ``models``."""
    name, weights = MODELS[key]
    chosen = {
        "name": name,
        "pretrained": weights or seeded_weights(name, 0, models / f"{name}-untrained.safetensors"),
        "device": device,
        "cache_dir": str(models),
    }
    if runtime:
        chosen["runtime"] = runtime
    return ModelSettings.model_validate({**WorkerSettings().model.model_dump(), **chosen})


def measure_stages(settings: ModelSettings, pictures: list[bytes], max_pixels: int) -> Figures:
    embedder = ClipEmbedder(settings)
    embedder.load()
    embed = embed_rate(embedder, pictures, max_pixels)
    side = min_side(embedder)
    name = settings.name
    one = cpu_stage_rate(name, side, max_pixels, pictures[:ONE_CORE_PICTURES], processes=1)
    every = cpu_stage_rate(name, side, max_pixels, pictures, processes=os.cpu_count() or 1)
    return Figures(
        name, embedder.runtime, embedder.batch_size, embedder.precision, embed, one, every
    )


def agreement_with_fp32(settings: ModelSettings) -> float:
    """How the settings' precision agrees with fp32 on the shape pictures, both embedders
    loading the same weights file."""
    images = [image for _, image in samples(32, seed=7, image_size=256)]
    embedders = {}
    for precision in ("fp32", settings.precision):
        embedders[precision] = ClipEmbedder(settings.model_copy(update={"precision": precision}))
        embedders[precision].load()
    return agreement(embedders["fp32"], embedders[settings.precision], images)


def upload(clients: list[httpx.Client], pictures: list[bytes], per_request: int) -> int:
    """Send every picture through ingestapi, one request per client at a time; the jobs made."""
    named = [(f"bench-{i:05d}.jpg", data, "image/jpeg") for i, data in enumerate(pictures)]
    batches = [named[i : i + per_request] for i in range(0, len(named), per_request)]

    def send(client: httpx.Client, share: list[list[tuple[str, bytes, str]]]) -> int:
        made = 0
        for batch in share:
            response = client.post("/api/v1/ingest", files=[("files", f) for f in batch])
            response.raise_for_status()
            made += sum(1 for job in response.json()["jobs"] if job.get("job_id"))
        return made

    shares = [batches[k :: len(clients)] for k in range(len(clients))]
    with ThreadPoolExecutor(len(clients)) as pool:
        return sum(pool.map(send, clients, shares))


def finished_states(jobs: JobStore, expected: int) -> dict[str, int] | None:
    states: dict[str, int] = {}
    for (_, state), count in jobs.counts().items():
        states[state] = states.get(state, 0) + count
    return states if sum(states.get(s, 0) for s in FINISHED) >= expected else None


def ingest(
    stack: Stack,
    pictures: list[bytes],
    args: argparse.Namespace,
    settings: ModelSettings,
    figures: Figures,
) -> None:
    """End-to-end images/s (first request sent → every job finished), the uploads' part of it,
    the worker's peak RSS, and the CPU every process spent meanwhile."""
    stack.start_ingestapi(RATE_LIMIT__INGEST="100000/minute")
    worker = stack.start_worker(
        MODEL__DEVICE=settings.device,
        MODEL__RUNTIME=settings.runtime,
        MODEL__CACHE_DIR=settings.cache_dir,
    )
    assert worker.proc is not None
    cpu = CpuWindow(process_ids(stack))
    catalog = stack.catalog()
    with ExitStack() as opened:
        opened.callback(catalog.close)
        clients = [
            opened.enter_context(stack.client("ingestapi", timeout=600))
            for _ in range(args.clients)
        ]
        jobs = JobStore(catalog)
        cpu.start()
        started = time.perf_counter()
        made = upload(clients, pictures, args.per_request)
        uploaded = time.perf_counter() - started
        states = wait_until(
            lambda: finished_states(jobs, made), 60 + len(pictures), "every job to finish"
        )
        elapsed = time.perf_counter() - started
        cpu.stop()
    if states.get("done", 0) != len(pictures):
        raise RuntimeError(f"not every picture indexed: {states}")
    figures.uploads, figures.e2e = len(pictures) / uploaded, len(pictures) / elapsed
    figures.rss_mb = peak_rss_mb(worker.proc.pid)
    figures.cpu_ms = {name: spent / len(pictures) * 1000 for name, spent in cpu.spent.items()}
    batches = histogram_sums(stack.urls["worker"], "embed_batch")
    figures.batch_mean = batches["size_sum"] / max(1, batches["size_count"])
    figures.forward_ms = batches["seconds_sum"] / max(1, batches["size_sum"]) * 1000


def process_ids(stack: Stack) -> dict[str, int]:
    named = {
        "worker": stack.processes["worker"],
        "ingestapi": stack.processes["ingestapi"],
        "MinIO": stack.servers.minio,
        "Milvus": stack.servers.milvus,
        "Redis": stack.servers.redis,
    }
    pids = {name: process.proc.pid for name, process in named.items() if process.proc}
    return {**pids, "client": os.getpid()}


def bench(servers: Servers, run: Run, pictures: list[bytes], args: argparse.Namespace) -> Figures:
    key, runtime, number = run.key, run.runtime, run.number
    settings = model_settings(key, args.device, runtime, run.models)
    max_pixels = WorkerSettings().limits.max_pixels
    figures = measure_stages(settings, pictures, max_pixels)
    if settings.device == "cuda":
        figures.agreement = agreement_with_fp32(settings)
    stack = Stack(
        servers,
        f"bench-{key}-{runtime or 'conf'}",
        number,
        model_name=settings.name,
        model_weights=settings.pretrained,
    )
    try:
        ingest(stack, pictures, args, settings, figures)
    finally:
        stack.stop_all()
        shutil.rmtree(stack.work, ignore_errors=True)
    figures.averaged_with(measure_stages(settings, pictures, max_pixels))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--models", default="tiny,vit", help="comma-separated: tiny, vit")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--runtime", default="", help="comma-separated: torch, onnx, auto; default: the worker's"
    )
    parser.add_argument("--clients", type=int, default=4, help="uploads at once")
    parser.add_argument("--per-request", type=int, default=25, help="files per request")
    args = parser.parse_args()
    keys = [key.strip() for key in args.models.split(",")]
    if unknown := set(keys) - set(MODELS):
        parser.error(f"unknown models {sorted(unknown)}; choose from {sorted(MODELS)}")
    runtimes = [runtime.strip() for runtime in args.runtime.split(",")]
    if unknown := set(runtimes) - {"", "torch", "onnx", "auto"}:
        parser.error(f"unknown runtimes {sorted(unknown)}; choose from auto, onnx, torch")

    pictures = photo_likes(args.images)
    kb = sum(map(len, pictures)) / len(pictures) / 1000
    with tempfile.TemporaryDirectory() as work, running_servers(Path(work)) as servers:
        models = Path(work) / "models"
        models.mkdir()
        runs = [(key, runtime) for key in keys for runtime in runtimes]
        rows = [
            (key, bench(servers, Run(key, runtime, number, models), pictures, args))
            for number, (key, runtime) in enumerate(runs, start=1)
        ]
    report(rows, args, kb)


if __name__ == "__main__":
    main()
