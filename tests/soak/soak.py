"""One soak run: start the system, upload while the faults play out, let the jobs settle, check.

The clients and the fault schedule start together; uploads are spread over the plan's span so
every fault meets traffic (jobs queued, in flight, retrying). The result carries the table and
every problem found; the caller decides how to show them (pytest's figures, or stdout).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from shared.identity.roles import Role
from tests.soak.clients import soak_images, upload_all
from tests.soak.environment import soak_system
from tests.soak.faults import run_schedule
from tests.soak.outcome import collect, problems, table, wait_for_jobs
from tests.soak.plan import Plan


@dataclass(frozen=True)
class SoakResult:
    table: list[str]
    problems: list[str]
    seconds: float


def run_soak(plan: Plan, work: Path, log_dir: Path) -> SoakResult:
    began = time.monotonic()
    with soak_system(plan, work, log_dir) as system:
        stack = system.stack
        keys = [stack.add_key(Role.EDITOR, f"soak-client-{n}") for n in range(plan.clients)]
        images = soak_images(plan.images, plan.duplicate_every)
        started = time.monotonic()
        with ThreadPoolExecutor(1) as pool:
            schedule = pool.submit(run_schedule, system, plan.faults, started)
            uploads = upload_all(stack.urls["ingestapi"], keys, images, plan.upload_span_s, started)
            injected = schedule.result()
        try:
            wait_for_jobs(stack, uploads, plan.drain_s)
        except TimeoutError:
            pass  # the jobs still unfinished are reported below, one by one
        outcome = collect(stack, uploads)
        lines = table(plan, injected, uploads, outcome)
        return SoakResult(lines, problems(uploads, outcome), time.monotonic() - began)
