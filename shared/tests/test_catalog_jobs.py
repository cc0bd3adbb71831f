"""Job records in the catalog, on SQLite and PostgreSQL: which queued jobs count as stale."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shared.catalog.db import Catalog
from shared.catalog.jobs import JobStore, now_ms
from shared.catalog.models import JobRow
from shared.domain import Job, JobState
from shared.errors import JobNotFound

MINUTE_MS = 60_000


def _age(catalog: Catalog, job_id: str, minutes: int) -> None:
    """Make the job's record look untouched for ``minutes``."""
    with catalog.session() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(updated_at=now_ms() - minutes * MINUTE_MS)
        )


def test_stale_queued_lists_only_old_queued_jobs_of_the_kind_oldest_first(
    catalog: Catalog,
) -> None:
    jobs = JobStore(catalog)
    for job_id, state, kind, minutes in [
        ("old", JobState.QUEUED, "ingest", 10),
        ("older", JobState.QUEUED, "ingest", 20),
        ("fresh", JobState.QUEUED, "ingest", 0),
        ("running", JobState.PROCESSING, "ingest", 30),
        ("finished", JobState.DONE, "ingest", 30),
        ("variant", JobState.QUEUED, "variant", 30),
    ]:
        jobs.create(Job(job_id, state, "ab" * 32, "a.png", kind=kind))
        _age(catalog, job_id, minutes)

    stale = jobs.stale_queued("ingest", 5 * MINUTE_MS, limit=10)

    assert [job.job_id for job in stale] == ["older", "old"]
    assert stale[0].image_id == "ab" * 32 and stale[0].filename == "a.png"
    assert [job.job_id for job in jobs.stale_queued("variant", 5 * MINUTE_MS, 10)] == ["variant"]


def test_stale_queued_stops_at_the_limit_and_a_touched_job_is_fresh_again(
    catalog: Catalog,
) -> None:
    jobs = JobStore(catalog)
    for n in range(3):
        jobs.create(Job(f"job-{n}", JobState.QUEUED, "ab" * 32))
        _age(catalog, f"job-{n}", 10 - n)

    assert [job.job_id for job in jobs.stale_queued("ingest", MINUTE_MS, limit=2)] == [
        "job-0",
        "job-1",
    ]
    jobs.set_state("job-0", JobState.QUEUED, "retrying: minio")  # a retry refreshes the record
    assert [job.job_id for job in jobs.stale_queued("ingest", MINUTE_MS, limit=5)] == [
        "job-1",
        "job-2",
    ]


def test_set_state_if_busy_moves_a_running_job_but_never_reopens_a_finished_one(
    catalog: Catalog,
) -> None:
    jobs = JobStore(catalog)
    jobs.create(Job("running", JobState.PROCESSING, "a" * 64, "a.png"))
    jobs.create(Job("finished", JobState.DONE, "b" * 64, "b.png"))
    jobs.set_state_if_busy("running", JobState.QUEUED, "retrying: MinIO")
    jobs.set_state_if_busy("finished", JobState.QUEUED, "retrying: MinIO")
    jobs.set_state_if_busy("finished", JobState.FAILED, "MinIO stayed unavailable")
    assert (jobs.get("running").state, jobs.get("running").error) == (
        JobState.QUEUED,
        "retrying: MinIO",
    )
    assert (jobs.get("finished").state, jobs.get("finished").error) == (JobState.DONE, None)


def test_claim_marks_a_busy_job_processing_and_answers_a_finished_one_unchanged(
    catalog: Catalog,
) -> None:
    jobs = JobStore(catalog)
    jobs.create(Job("queued", JobState.QUEUED, "a" * 64, "a.png", params={"tags": ["x"]}))
    jobs.create(Job("retried", JobState.QUEUED, "a" * 64, "a.png", error="retrying: MinIO"))
    jobs.create(Job("finished", JobState.DUPLICATE, "b" * 64, "b.png"))

    claimed = jobs.claim("queued")
    assert (claimed.state, claimed.image_id, claimed.params) == (
        JobState.PROCESSING,
        "a" * 64,
        {"tags": ["x"]},
    )
    assert jobs.get("queued").state == JobState.PROCESSING
    assert (jobs.claim("retried").error, jobs.get("retried").error) == (None, None)
    assert jobs.claim("finished").state == JobState.DUPLICATE
    assert jobs.get("finished").state == JobState.DUPLICATE


def test_claiming_an_unknown_job_is_job_not_found(catalog: Catalog) -> None:
    with pytest.raises(JobNotFound):
        JobStore(catalog).claim("never-created")


def test_done_since_sees_only_another_job_of_the_image_that_ended_done_later(
    catalog: Catalog,
) -> None:
    jobs = JobStore(catalog)
    image, other_image = "a" * 64, "b" * 64
    jobs.create(Job("mine", JobState.PROCESSING, image, "a.png"))
    queued_at = jobs.get("mine").created_at
    jobs.create(Job("failed", JobState.FAILED, image, "a.png"))
    jobs.create(Job("elsewhere", JobState.DONE, other_image, "b.png"))
    _age(catalog, "failed", -1)  # touched a minute after "mine" was queued
    _age(catalog, "elsewhere", -1)
    assert not jobs.done_since(image, queued_at, other_than="mine")

    jobs.create(Job("earlier", JobState.DONE, image, "a.png"))
    _age(catalog, "earlier", 1)  # ended a minute before "mine" was queued: a repair's case
    assert not jobs.done_since(image, queued_at, other_than="mine")

    jobs.set_state("mine", JobState.DONE)
    _age(catalog, "mine", -1)
    assert not jobs.done_since(image, queued_at, other_than="mine")  # itself does not count
    jobs.create(Job("later", JobState.DONE, image, "a.png"))
    _age(catalog, "later", -1)
    assert jobs.done_since(image, queued_at, other_than="mine")
