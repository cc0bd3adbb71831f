"""After the faults: where every accepted job ended, what the stores hold, and the soak's table.

"Retries seen" counts the worker's own ``retrying`` log lines (one per retry Celery scheduled,
each naming its job), read from the worker's log file: the job rows cannot tell, since a job's
``retrying: ...`` error is cleared by the state it ends in.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from shared.catalog.models import JobRow
from tests.soak.clients import Uploads
from tests.soak.faults import Injected
from tests.soak.plan import Plan
from tests.support.processes import wait_until
from tests.support.stack import Stack

FINAL = {"done", "duplicate", "failed"}


@dataclass(frozen=True)
class JobEnd:
    state: str
    error: str | None
    latency_s: float


@dataclass
class Outcome:
    jobs: dict[str, JobEnd]
    index_rows: Counter[str]  # index rows per image id
    originals: set[str]
    staging: set[str]
    verify_problems: list[dict[str, object]]
    retries: int
    jobs_retried: int

    @property
    def states(self) -> Counter[str]:
        return Counter(end.state for end in self.jobs.values())


def _job_ends(stack: Stack, job_ids: list[str]) -> dict[str, JobEnd]:
    catalog = stack.catalog()
    try:
        with catalog.session() as session:
            rows = session.scalars(select(JobRow).where(JobRow.id.in_(job_ids))).all()
            return {
                row.id: JobEnd(row.state, row.error, (row.updated_at - row.created_at) / 1000)
                for row in rows
            }
    finally:
        catalog.close()


def wait_for_jobs(stack: Stack, uploads: Uploads, deadline_s: float) -> None:
    job_ids = [a.job_id for a in uploads.accepted]

    def settled() -> bool:
        ends = _job_ends(stack, job_ids)
        return len(ends) == len(job_ids) and all(e.state in FINAL for e in ends.values())

    wait_until(settled, deadline_s, "every accepted job to finish", interval=2)


def _retries_logged(stack: Stack) -> tuple[int, int]:
    """(retry lines, distinct jobs retried) in every worker log this stack wrote."""
    retried: Counter[str] = Counter()
    for path in stack.servers.log_dir.glob(f"{stack.name}-worker*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"retrying"' in line:
                event = json.loads(line)
                retried[event.get("job_id", "?")] += 1
    return sum(retried.values()), len(retried)


def collect(stack: Stack, uploads: Uploads) -> Outcome:
    objects = stack.objects()
    with stack.client("ingestapi", timeout=300) as client:
        verify = client.post("/api/v1/admin/verify", json={"repair": False})
    verify.raise_for_status()
    retries, jobs_retried = _retries_logged(stack)
    return Outcome(
        jobs=_job_ends(stack, [a.job_id for a in uploads.accepted]),
        index_rows=Counter(i for batch in stack.vectors().ids() for i in batch),
        originals={k.removeprefix("originals/") for k in objects.keys("originals/")},
        staging={k.removeprefix("staging/") for k in objects.keys("staging/")},
        verify_problems=verify.json()["problems"],
        retries=retries,
        jobs_retried=jobs_retried,
    )


def problems(uploads: Uploads, outcome: Outcome) -> list[str]:
    """Every way the run fell short; empty when nothing was lost, stuck or doubled."""
    images = {a.image_id for a in uploads.accepted}
    found = [f"refused: {r}" for r in uploads.refused]
    found += [
        f"job {job_id} ended {end.state}: {end.error}"
        for job_id, end in outcome.jobs.items()
        if end.state not in ("done", "duplicate")
    ]
    found += [
        f"job {a.job_id} has no record" for a in uploads.accepted if a.job_id not in outcome.jobs
    ]
    # A job delivered again after it finished must not turn its `done` into `duplicate`.
    done = {a.image_id for a in uploads.accepted if _state(outcome, a.job_id) == "done"}
    found += [f"image {i} has no job that ended done" for i in sorted(images - done)]
    found += [
        f"image {i} has {outcome.index_rows[i]} index rows"
        for i in sorted(images | set(outcome.index_rows))
        if outcome.index_rows[i] != 1 or i not in images
    ]
    found += [f"image {i} has no original" for i in sorted(images - outcome.originals)]
    found += [f"original {i} was never accepted" for i in sorted(outcome.originals - images)]
    found += [f"staging/{i} left behind" for i in sorted(outcome.staging)]
    found += [f"verify: {p['kind']} {p['image_id']}" for p in outcome.verify_problems]
    return found


def _state(outcome: Outcome, job_id: str) -> str | None:
    end = outcome.jobs.get(job_id)
    return end.state if end else None


def table(plan: Plan, injected: list[Injected], uploads: Uploads, outcome: Outcome) -> list[str]:
    states = outcome.states
    latency = max((end.latency_s for end in outcome.jobs.values()), default=0.0)
    unfinished = len(uploads.accepted) - states["done"] - states["duplicate"] - states["failed"]
    client_retries = ", ".join(f"{why} x{n}" for why, n in sorted(uploads.retried.items()))
    lines = [f"{'fault':<32} {'began':>8} {'recovered':>10}"]
    lines += [f"{f.kind:<32} {f.began_s:>7.1f}s {f.recovered_s:>9.1f}s" for f in injected]
    lines += [
        "",
        f"uploads sent: {plan.images} by {plan.clients} clients over {plan.upload_span_s:.0f}s",
        f"accepted (202): {len(uploads.accepted)}   refused: {len(uploads.refused)}",
        f"  client retries: {client_retries or 'none'}",
        f"done: {states['done']}   duplicate: {states['duplicate']}   failed: {states['failed']}"
        f"   unfinished: {unfinished}",
        f"distinct images: {len({a.image_id for a in uploads.accepted})}"
        f"   index rows: {sum(outcome.index_rows.values())}   originals: {len(outcome.originals)}"
        f"   staging left: {len(outcome.staging)}",
        f"max job latency (created -> final): {latency:.1f}s",
        f"worker retries seen: {outcome.retries} ('retrying' log lines,"
        f" {outcome.jobs_retried} jobs)",
        f"verify problems: {len(outcome.verify_problems)}",
    ]
    return lines
