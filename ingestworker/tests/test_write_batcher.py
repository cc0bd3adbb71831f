"""The write batcher on the fake index and a real catalog (SQLite): the jobs that finish together
share one index upsert and one catalog transaction, which records each of them `done`, and then
let go of their staged bytes, all but those another job still needs; a failure reaches every job
of the batch and leaves none of them done.
"""

from prometheus_client import CollectorRegistry

from ingestworker.service.writes import WriteBatcher
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import Job, JobState, staging_key
from shared.errors import DependencyUnavailable
from tests.support.concurrency import at_once
from tests.support.fake_model import PALETTE, indexed_picture
from tests.support.fakes import FakeObjectStore, FakeVectorStore
from tests.support.local_catalog import FailableCatalog

COLOURS = list(PALETTE)[:6]


def running_jobs(jobs: JobStore, count: int) -> list[str]:
    job_ids = [f"job-{i}" for i in range(count)]
    for job_id in job_ids:
        jobs.create(Job(job_id, JobState.PROCESSING, "ab" * 32, "a.png"))
    return job_ids


def batcher(
    catalog: FailableCatalog, max_batch: int, registry: CollectorRegistry | None = None
) -> tuple[WriteBatcher, FakeVectorStore, ImageCatalog, JobStore, FakeObjectStore]:
    vectors, images, jobs, objects = (
        FakeVectorStore(),
        ImageCatalog(catalog),
        JobStore(catalog),
        FakeObjectStore(),
    )
    writes = WriteBatcher(
        vectors, images, jobs, objects, max_batch, 500, registry or CollectorRegistry()
    )
    return writes, vectors, images, jobs, objects


def test_jobs_finishing_together_share_one_upsert_and_one_catalog_write(
    catalog: FailableCatalog,
) -> None:
    registry = CollectorRegistry()
    writes, vectors, images, jobs, _ = batcher(catalog, len(COLOURS), registry)
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
    writes, vectors, images, jobs, _ = batcher(catalog, 2)
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
    writes, vectors, images, jobs, _ = batcher(catalog, len(COLOURS))
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


def test_a_batch_lets_go_of_its_images_staged_bytes_but_not_of_those_another_job_needs(
    catalog: FailableCatalog,
) -> None:
    writes, _, _, jobs, objects = batcher(catalog, len(COLOURS))
    records = [indexed_picture(colour) for colour in COLOURS]
    job_ids = [f"job-{i}" for i in range(len(records))]
    for record, job_id in zip(records, job_ids, strict=True):
        objects.put(staging_key(record.id), b"staged", "image/png")
        jobs.create(Job(job_id, JobState.PROCESSING, record.id, "a.png"))
    jobs.create(Job("again", JobState.QUEUED, records[0].id, "a.png"))  # its bytes, sent again

    at_once(len(records), lambda i: writes.write(records[i], job_ids[i]))
    writes.stop()

    assert list(objects.keys("staging/")) == [staging_key(records[0].id)]
