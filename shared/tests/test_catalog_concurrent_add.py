"""Two jobs for the same new bytes add the same image at once, on SQLite and PostgreSQL: both
units of work read "no row" before either inserts, so one insert loses the race on the primary
key. Found by the fault-injection soak (tests/soak), where the loser's job failed with an
internal error; now the loser writes again over the winner's row and both jobs end `done`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.domain import ImageRecord, Job, JobState


def _image() -> ImageRecord:
    return ImageRecord(
        id="ab" * 32,
        width=64,
        height=48,
        bytes=900,
        format="PNG",
        filename="twice.png",
        ingested_at=1_700_000_000_000,
        meta={"exif": {}},
        tags=["beach"],
    )


@contextmanager
def both_read_before_either_writes() -> Iterator[None]:
    """Each of the next two flushes waits for the other, so both sessions have read first."""
    both_read = threading.Barrier(2, timeout=10)
    waited: list[int] = []

    def hold(session: Session, *_: object) -> None:
        if len(waited) < 2:
            waited.append(1)
            both_read.wait()

    event.listen(Session, "before_flush", hold)
    yield
    event.remove(Session, "before_flush", hold)


def test_two_adds_of_the_same_new_image_at_once_both_succeed(catalog: Catalog) -> None:
    images, jobs = ImageCatalog(catalog), JobStore(catalog)
    for job_id in ("first", "second"):
        jobs.create(Job(job_id, JobState.PROCESSING, image_id="ab" * 32))

    with both_read_before_either_writes(), ThreadPoolExecutor(2) as pool:
        adds = [pool.submit(images.add, [_image()], [job_id]) for job_id in ("first", "second")]
        for add in adds:
            add.result()

    assert images.get("ab" * 32) == _image()
    assert [jobs.get(j).state for j in ("first", "second")] == [JobState.DONE, JobState.DONE]
