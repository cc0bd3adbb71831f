"""Job records in the catalog: every job's state and history, kept (no expiry).

Celery reports every unknown task id as PENDING, so it cannot tell "queued" from "never existed";
these records can. ingestapi creates them, the worker moves them through their states.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from sqlalchemy import Update, delete, func, select, update

from shared.catalog.db import Catalog
from shared.catalog.models import JobRow
from shared.domain import Job, JobState
from shared.errors import JobNotFound
from shared.jobs import VARIANT_JOB_KIND

_BUSY = (JobState.QUEUED.value, JobState.PROCESSING.value)
_ENDED_WELL = (JobState.DONE.value, JobState.DUPLICATE.value, JobState.QUARANTINED.value)


def now_ms() -> int:
    return int(time.time() * 1000)


def state_change(job_ids: Sequence[str], state: JobState, error: str | None = None) -> Update:
    """The statement that moves jobs to ``state`` (run it in the caller's transaction)."""
    return (
        update(JobRow)
        .where(JobRow.id.in_(list(job_ids)))
        .values(state=state.value, error=error, updated_at=now_ms())
    )


def new_job_row(job: Job) -> JobRow:
    """A new job's row, stamped now (added in the caller's transaction)."""
    job.created_at = job.updated_at = now_ms()
    return JobRow(
        id=job.job_id,
        kind=job.kind,
        state=job.state.value,
        image_id=job.image_id,
        filename=job.filename,
        params=job.params,
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def _job(row: JobRow) -> Job:
    return Job(
        job_id=row.id,
        state=JobState(row.state),
        kind=row.kind,
        image_id=row.image_id,
        filename=row.filename,
        params=row.params,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class JobStore:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def ping(self) -> bool:
        return self._catalog.ping()

    def create(self, job: Job) -> None:
        with self._catalog.session() as session:
            session.add(new_job_row(job))

    def get(self, job_id: str) -> Job:
        with self._catalog.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"no job {job_id}")
            return _job(row)

    def claim(self, job_id: str) -> Job:
        """A worker's first step: the job, moved to `processing` in the same statement, unless
        it already ended well (a redelivery after it finished), when it is answered unchanged."""
        claim = state_change([job_id], JobState.PROCESSING).where(JobRow.state.not_in(_ENDED_WELL))
        with self._catalog.session() as session:
            row = session.scalars(claim.returning(JobRow)).one_or_none()
            row = row or session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"no job {job_id}")
            return _job(row)

    def set_state(self, job_id: str, state: JobState, error: str | None = None) -> None:
        with self._catalog.session() as session:
            session.execute(state_change([job_id], state, error))

    def set_state_if_busy(self, job_id: str, state: JobState, error: str | None = None) -> None:
        """Like ``set_state``, unless the job already ended: an attempt that fails after its job
        was recorded finished (on its last step) must not reopen it as queued or failed."""
        with self._catalog.session() as session:
            session.execute(state_change([job_id], state, error).where(JobRow.state.in_(_BUSY)))

    def forget(self, job_id: str) -> None:
        """Remove a record that never became a job (its queueing failed, the client got a 503)."""
        with self._catalog.session() as session:
            session.execute(delete(JobRow).where(JobRow.id == job_id))

    def busy_image_ids(self, among: Iterable[str] | None = None) -> set[str]:
        """Images with an ingest job still queued or processing (optionally only ``among``
        these). Variant jobs do not count: they never change the image itself."""
        query = select(JobRow.image_id).where(
            JobRow.state.in_(_BUSY), JobRow.kind != VARIANT_JOB_KIND
        )
        if among is not None:
            query = query.where(JobRow.image_id.in_(list(among)))
        with self._catalog.session() as session:
            return {image_id for image_id in session.scalars(query) if image_id}

    def done_since(self, image_id: str, since_ms: int, other_than: str) -> bool:
        """Whether an ingest job of ``image_id`` other than ``other_than`` ended `done` after
        ``since_ms``: the same bytes, uploaded again meanwhile, were indexed by it."""
        query = select(JobRow.id).where(
            JobRow.image_id == image_id,
            JobRow.kind != VARIANT_JOB_KIND,
            JobRow.state == JobState.DONE.value,
            JobRow.updated_at > since_ms,
            JobRow.id != other_than,
        )
        with self._catalog.session() as session:
            return session.scalars(query.limit(1)).first() is not None

    def stale_queued(self, kind: str, older_than_ms: int, limit: int) -> list[Job]:
        """Jobs of ``kind`` still queued and untouched for ``older_than_ms``, oldest first (at
        most ``limit``): those whose message the broker may have lost (the worker's sweeper)."""
        query = (
            select(JobRow)
            .where(
                JobRow.state == JobState.QUEUED.value,
                JobRow.kind == kind,
                JobRow.updated_at <= now_ms() - older_than_ms,
            )
            .order_by(JobRow.updated_at, JobRow.id)
            .limit(limit)
        )
        with self._catalog.session() as session:
            return [_job(row) for row in session.scalars(query)]

    def counts(self) -> dict[tuple[str, str], int]:
        """How many job records there are of each (kind, state): what the worker's metrics show."""
        query = select(JobRow.kind, JobRow.state, func.count()).group_by(JobRow.kind, JobRow.state)
        with self._catalog.session() as session:
            return {(kind, state): count for kind, state, count in session.execute(query)}
