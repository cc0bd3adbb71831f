"""The worker's backlog gauges: queue lengths and job records, read at scrape time.

The catalog is the real one on a SQLite file; Redis is a stand-in for the one call the gauges
make (LLEN), which can be switched off like the other fakes.
"""

from pathlib import Path

import pytest
import redis
from prometheus_client import CollectorRegistry

from ingestworker.service.backlog import BacklogCollector
from shared.catalog.jobs import JobStore
from shared.domain import Job, JobState
from tests.support.fakes import Failable
from tests.support.local_catalog import FailableCatalog, sqlite_catalog

QUEUES = ("ingest", "variants")


class RedisLists(Failable):
    """Redis lists by name, answering LLEN; down after ``fail_with(redis.ConnectionError())``."""

    def __init__(self, lists: dict[str, list[bytes]]) -> None:
        super().__init__()
        self.lists = lists

    def llen(self, name: str) -> int:
        self._check()
        return len(self.lists.get(name, []))


@pytest.fixture
def catalog(tmp_path: Path) -> FailableCatalog:
    catalog = sqlite_catalog(tmp_path)
    jobs = JobStore(catalog)
    states = [JobState.DONE, JobState.DONE, JobState.FAILED, JobState.QUEUED]
    for n, state in enumerate(states):
        jobs.create(Job(f"ingest-{n}", state, f"image-{n}"))
    jobs.create(Job("variant-0", JobState.PROCESSING, "image-0", kind="variant"))
    return catalog


def _registry(lists: RedisLists, catalog: FailableCatalog) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(BacklogCollector(lists, JobStore(catalog), QUEUES))  # type: ignore[arg-type]
    return registry


def test_backlog_reports_every_queue_length_and_job_records_by_kind_and_state(
    catalog: FailableCatalog,
) -> None:
    lists = RedisLists({"ingest": [b"a", b"b", b"c"], "other": [b"x"]})
    registry = _registry(lists, catalog)

    def queued(queue: str) -> float | None:
        return registry.get_sample_value("broker_queue_length", {"queue": queue})

    def records(kind: str, state: str) -> float | None:
        return registry.get_sample_value("job_records", {"kind": kind, "state": state})

    assert (queued("ingest"), queued("variants"), queued("other")) == (3, 0, None)
    assert records("ingest", "done") == 2
    assert records("ingest", "failed") == 1
    assert records("ingest", "queued") == 1
    assert records("variant", "processing") == 1
    assert records("variant", "done") is None

    lists.lists["variants"] = [b"v"]  # read at every scrape, not once
    JobStore(catalog).set_state("ingest-3", JobState.DONE)
    assert queued("variants") == 1
    assert records("ingest", "done") == 3


def test_backlog_leaves_out_only_the_gauge_of_a_dependency_that_does_not_answer(
    catalog: FailableCatalog,
) -> None:
    lists = RedisLists({"ingest": [b"a"]})
    registry = _registry(lists, catalog)

    lists.fail_with(redis.ConnectionError("Redis is down"))
    assert registry.get_sample_value("broker_queue_length", {"queue": "ingest"}) is None
    assert registry.get_sample_value("job_records", {"kind": "ingest", "state": "done"}) == 2

    lists.heal()
    catalog.outage()
    assert registry.get_sample_value("broker_queue_length", {"queue": "ingest"}) == 1
    assert registry.get_sample_value("job_records", {"kind": "ingest", "state": "done"}) is None
