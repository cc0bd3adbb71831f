"""What ``make bench-ingest`` (``tools/bench_ingest.py``) measured for a model, and how it prints:
the rates and their limit, where the CPU went, and the issue's goals."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from tools.ingest_stages import HEIGHT, WIDTH

GOALS = {"tiny": 0.7, "vit": 0.8}  # end-to-end ÷ limit
RSS_GOAL_MB = 2048


@dataclass
class Figures:
    model: str
    runtime: str
    batch: int
    precision: str
    embed: float  # images/s, forward pass alone
    one_core: float  # images/s, CPU stage
    all_cores: float
    embed_measures: tuple[float, ...] = ()  # before and after the end-to-end run
    agreement: float | None = None  # on CUDA: least cosine of its precision's rows vs fp32's
    uploads: float = 0.0  # images/s until ingestapi had answered every request
    e2e: float = 0.0
    rss_mb: float = 0.0
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per picture, by process
    batch_mean: float = 0.0  # pictures per forward pass in the pipeline
    forward_ms: float = 0.0  # forward-pass seconds per picture in the pipeline, in ms

    def averaged_with(self, later: Figures) -> None:
        """The stages' rates as the mean of this measure (before the end-to-end run) and
        ``later``'s (after it): the limit this host allowed around the run."""
        self.embed_measures = (self.embed, later.embed)
        self.embed = (self.embed + later.embed) / 2
        self.one_core = (self.one_core + later.one_core) / 2
        self.all_cores = (self.all_cores + later.all_cores) / 2

    @property
    def label(self) -> str:
        return f"{self.model} {self.runtime}"

    @property
    def limit(self) -> float:
        cores = os.cpu_count() or 1
        return 1 / (1 / self.one_core / cores + 1 / self.embed)

    @property
    def budget_ms(self) -> float:
        """The cores' CPU ms per picture at the end-to-end rate."""
        return (os.cpu_count() or 1) * 1000 / self.e2e


def report(rows: list[tuple[str, Figures]], args: argparse.Namespace, kb: float) -> None:
    print(
        f"\ningest: {args.images} photo-like JPEGs of {WIDTH}x{HEIGHT} (gradients + grain, "
        f"{kb:.0f} KB mean), {args.clients} clients x {args.per_request} files per request; "
        f"device {args.device}, {os.cpu_count()} cores"
    )
    print("CPU stage: draft decode + thumbnail + the model's transform, one process per core")
    print("limit = 1 / (CPU stage cost / cores + forward pass cost), each the mean of a measure")
    print("before and one after the end-to-end run; images/s throughout;")
    print("upload: until ingestapi answered every request; e2e: until every job was done")
    print(
        f"{'model, runtime':<18}{'batch':>6}{'prec':>6}{'embed':>9}{'cpu 1':>8}{'cpu all':>9}"
        f"{'limit':>8}{'upload':>8}{'e2e':>8}{'e2e/lim':>9}{'RSS MB':>8}"
    )
    for _, f in rows:
        print(
            f"{f.label:<18}{f.batch:>6}{f.precision:>6}{f.embed:>9.1f}{f.one_core:>8.1f}"
            f"{f.all_cores:>9.1f}{f.limit:>8.1f}{f.uploads:>8.1f}{f.e2e:>8.1f}"
            f"{f.e2e / f.limit:>9.2f}{f.rss_mb:>8.0f}"
        )
    print()
    where_the_cpu_went(rows)
    goals(rows, args.device)


def where_the_cpu_went(rows: list[tuple[str, Figures]]) -> None:
    """Per picture, over the end-to-end window: what each process spent, and what the cores
    could give at that rate; then the forward pass in the pipeline against the limit's."""
    names = list(rows[0][1].cpu_ms)
    print("CPU ms per picture, end-to-end window (cores' budget = cores x wall time / pictures)")
    columns = "".join(f"{n:>10}" for n in names)
    print(f"{'model, runtime':<18}{columns}{'total':>8}{'budget':>8}")
    for _, f in rows:
        spent = "".join(f"{f.cpu_ms[n]:>10.1f}" for n in names)
        print(f"{f.label:<18}{spent}{sum(f.cpu_ms.values()):>8.1f}{f.budget_ms:>8.1f}")
    cores = os.cpu_count() or 1
    for _, f in rows:
        servers_ms = sum(ms for name, ms in f.cpu_ms.items() if name not in ("worker", "client"))
        with_servers = 1 / (1 / f.limit + servers_ms / 1000 / cores)
        print(
            f"{f.label}: counting the servers' {servers_ms:.1f} ms too, the limit would be "
            f"{with_servers:.1f} images/s; e2e is {f.e2e / with_servers:.2f} of it"
        )
        print(
            f"{f.label}: forward pass in the pipeline {f.forward_ms:.1f} ms per picture at a mean "
            f"batch of {f.batch_mean:.1f}; alone at {f.batch}: {1000 / f.embed:.1f} ms"
        )
        measures = " then ".join(f"{rate:.1f}" for rate in f.embed_measures)
        print(f"{f.label}: forward pass alone, before then after the run: {measures} images/s")
    print()


def goals(rows: list[tuple[str, Figures]], device: str) -> None:
    """The issue's goals, one line each; on CUDA the CPU stages bound the rate, not the GPU."""
    cores = os.cpu_count() or 1
    for key, f in rows:
        print(f"{f.label}: e2e/limit {f.e2e / f.limit:.2f} (goal >= {GOALS[key]})")
        if device == "cuda":
            ratio = f.e2e / (cores * f.one_core)
            print(f"{f.label}: e2e / (cores x one-core CPU stage) {ratio:.2f} (goal >= 0.7)")
        if f.agreement is not None:
            cosine = f"least cosine {f.agreement:.4f}"
            print(f"{f.label}: {f.precision} vs fp32, {cosine} (goal >= 0.999)")
    heaviest = max((f for _, f in rows), key=lambda f: f.rss_mb)
    print(f"worker peak RSS {heaviest.rss_mb:.0f} MB, {heaviest.label} (goal < {RSS_GOAL_MB})")
