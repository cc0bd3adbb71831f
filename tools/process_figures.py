"""What a benchmark reads of the processes it ran: the CPU seconds of each over a window, its peak
RSS, a service's histogram sums.

CPU time comes from ``/proc/<pid>/stat`` (user + system time of the process and of its live
descendants), so a service that runs as a launcher and a child is counted whole.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of ``pid``, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _processes() -> dict[int, tuple[int, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def tree_cpu_seconds(pids: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process with its live descendants, except those named
    themselves (a benchmark's servers are its children, and counted apart)."""
    processes = _processes()
    named = set(pids.values())
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        own = processes.get(pid, (0, 0.0))[1]
        kids = [child for child in children.get(pid, []) if child not in named]
        return own + sum(tree(child) for child in kids)

    return {name: tree(pid) for name, pid in pids.items()}


class CpuWindow:
    """CPU seconds each process spent between ``start`` and ``stop``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self._before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def start(self) -> None:
        self._before = tree_cpu_seconds(self._pids)

    def stop(self) -> None:
        after = tree_cpu_seconds(self._pids)
        self.spent = {name: after[name] - self._before[name] for name in self._pids}


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM): its peak over its whole life."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def histogram_sums(base_url: str, prefix: str) -> dict[str, float]:
    """``<prefix>_size`` and ``<prefix>_seconds`` sums and counts from a service's /metrics."""
    sums: dict[str, float] = {}
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith(f"{prefix}_") and sample.name.endswith(("_sum", "_count")):
                sums[sample.name.removeprefix(f"{prefix}_")] = sample.value
    return sums
