"""``shared.intake.unstage``: staged bytes shared by several jobs of the same bytes go only when
the last of them has ended, whoever lets go first (on SQLite and PostgreSQL)."""

from __future__ import annotations

from shared.catalog.db import Catalog
from shared.catalog.jobs import JobStore
from shared.domain import Job, JobState, staging_key
from shared.intake import unstage
from tests.support.fakes import FakeObjectStore

IMAGE = "ab" * 32


def _staged() -> FakeObjectStore:
    objects = FakeObjectStore()
    objects.put(staging_key(IMAGE), b"bytes", "image/png")
    return objects


def test_staged_bytes_stay_while_another_job_of_them_is_queued_or_processing(
    catalog: Catalog,
) -> None:
    jobs, objects = JobStore(catalog), _staged()
    jobs.create(Job("first", JobState.DONE, IMAGE, "a.png"))
    jobs.create(Job("second", JobState.QUEUED, IMAGE, "a.png"))
    jobs.create(Job("third", JobState.PROCESSING, IMAGE, "a.png"))

    unstage(objects, jobs, IMAGE)  # the first one ended: two still need them
    assert objects.exists(staging_key(IMAGE))

    jobs.set_state("second", JobState.DUPLICATE)
    unstage(objects, jobs, IMAGE)
    assert objects.exists(staging_key(IMAGE))

    jobs.set_state("third", JobState.FAILED)
    unstage(objects, jobs, IMAGE)  # the last one ended: nobody needs them
    assert not objects.exists(staging_key(IMAGE))


def test_jobs_of_other_bytes_and_variant_jobs_hold_nothing(catalog: Catalog) -> None:
    jobs, objects = JobStore(catalog), _staged()
    jobs.create(Job("other", JobState.QUEUED, "cd" * 32, "b.png"))
    jobs.create(Job("variant", JobState.QUEUED, IMAGE, "a.png", kind="variant"))
    unstage(objects, jobs, IMAGE)
    assert not objects.exists(staging_key(IMAGE))


def test_of_many_images_let_go_at_once_only_those_no_job_needs_go(catalog: Catalog) -> None:
    jobs, objects = JobStore(catalog), FakeObjectStore()
    images = ["ab" * 32, "cd" * 32, "ef" * 32]
    for image in images:
        objects.put(staging_key(image), b"bytes", "image/png")
    jobs.create(Job("busy", JobState.PROCESSING, images[1], "b.png"))
    unstage(objects, jobs, *images)
    assert list(objects.keys("staging/")) == [staging_key(images[1])]
