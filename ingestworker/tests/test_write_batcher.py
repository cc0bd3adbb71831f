"""The write batcher on the fake index and a real catalog (SQLite): the jobs that finish together
share one index upsert and one catalog transaction, which records each of them `done`; a failure
reaches every job of the batch and leaves none of them done.
"""

from prometheus_client import CollectorRegistry

from ingestworker.service.writes import WriteBatcher
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import Job, JobState
from shared.errors import DependencyUnavailable
from tests.support.concurrency import at_once
from tests.support.fake_model import PALETTE, indexed_picture
from tests.support.fakes import FakeVectorStore
from tests.support.local_catalog import FailableCatalog

COLOURS = list(PALETTE)[:6]


def running_jobs(jobs: JobStore, count: int) -> list[str]:
    job_ids = [f"job-{i}" for i in range(count)]
    for job_id in job_ids:
        jobs.create(Job(job_id, JobState.PROCESSING, "ab" * 32, "a.png"))
    return job_ids


def test_jobs_finishing_together_share_one_upsert_and_one_catalog_write(
    catalog: FailableCatalog,
) -> None:
    vectors, images, jobs = FakeVectorStore(), ImageCatalog(catalog), JobStore(catalog)
    registry = CollectorRegistry()
    writes = WriteBatcher(vectors, images, len(COLOURS), max_wait_ms=500, registry=registry)
    records = [indexed_picture(colour) for colour in COLOURS]
    job_ids = running_jobs(jobs, len(records))

    results = at_once(len(records), lambda i: writes.write(records[i], job_ids[i]))
    writes.stop()

    assert results == {i: None for i in range(len(records))}
    assert vectors.upserts == [len(records)]
    assert set(vectors.rows) == {r.id for r in records}
    assert images.existing_ids([r.id for r in records]) == {r.id for r in records}
    assert {jobs.get(job_id).state for job_id in job_ids} == {JobState.DONE}
    assert registry.get_sample_value("write_batch_size_sum") == len(records)


def test_one_image_written_by_two_jobs_in_a_batch_is_written_once_and_both_are_done(
    catalog: FailableCatalog,
) -> None:
    vectors, images, jobs = FakeVectorStore(), ImageCatalog(catalog), JobStore(catalog)
    writes = WriteBatcher(vectors, images, 2, max_wait_ms=500, registry=CollectorRegistry())
    record = indexed_picture("red")
    job_ids = running_jobs(jobs, 2)

    at_once(2, lambda i: writes.write(record, job_ids[i]))
    writes.stop()

    assert vectors.upserts == [1]
    assert images.count() == 1
    assert {jobs.get(job_id).state for job_id in job_ids} == {JobState.DONE}


def test_an_index_outage_fails_every_job_of_the_batch_and_none_is_done(
    catalog: FailableCatalog,
) -> None:
    vectors, images, jobs = FakeVectorStore(), ImageCatalog(catalog), JobStore(catalog)
    writes = WriteBatcher(
        vectors, images, len(COLOURS), max_wait_ms=500, registry=CollectorRegistry()
    )
    records = [indexed_picture(colour) for colour in COLOURS]
    job_ids = running_jobs(jobs, len(records))
    vectors.outage()

    results = at_once(len(records), lambda i: writes.write(records[i], job_ids[i]))

    assert all(isinstance(r, DependencyUnavailable) for r in results.values())
    assert images.count() == 0
    assert {jobs.get(job_id).state for job_id in job_ids} == {JobState.PROCESSING}
    vectors.heal()  # the jobs' retries find the batcher working
    writes.write(records[0], job_ids[0], timeout=5)
    writes.stop()
    assert jobs.get(job_ids[0]).state == JobState.DONE
