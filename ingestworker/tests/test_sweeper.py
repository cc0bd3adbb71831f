"""The sweeper's decisions: which queued jobs it sends again, and which it leaves alone.

The catalog is the real one on a SQLite file; the broker is a stand-in for the sweeper's two
ports, the task ids it holds and the send, where a sent job's id is held from then on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import update

from ingestworker.service.sweeper import JobSweeper
from shared.catalog.jobs import JobStore, now_ms
from shared.catalog.models import JobRow
from shared.domain import Job, JobState
from shared.errors import DependencyUnavailable
from shared.jobs import INGEST_QUEUE, INGEST_TASK, VARIANT_QUEUE, VARIANT_TASK
from tests.support.local_catalog import FailableCatalog, sqlite_catalog
from tests.support.processes import wait_until

IMAGE = "ab" * 32
AFTER_S = 120


class Broker:
    """The task ids the broker holds; ``on_look`` runs at each look (what changes meanwhile)."""

    def __init__(self, held: set[str] | None = None) -> None:
        self.held = set(held or ())
        self.sent: list[tuple[str, str, dict[str, str]]] = []
        self.looks = 0
        self.on_look: Callable[[int], None] = lambda look: None
        self.down_for_looks = 0

    def task_ids(self) -> set[str]:
        self.looks += 1
        if self.down_for_looks:
            self.down_for_looks -= 1
            raise DependencyUnavailable("job queue")
        self.on_look(self.looks)
        return set(self.held)

    def send(self, task: str, queue: str, kwargs: dict[str, str]) -> None:
        self.sent.append((task, queue, kwargs))
        self.held.add(kwargs["job_id"])


@pytest.fixture
def catalog(tmp_path: Path) -> FailableCatalog:
    return sqlite_catalog(tmp_path)


@pytest.fixture
def jobs(catalog: FailableCatalog) -> JobStore:
    return JobStore(catalog)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def queued(catalog: FailableCatalog, job: Job, untouched_s: int = AFTER_S + 1) -> Job:
    """``job`` recorded as queued and untouched for ``untouched_s``."""
    JobStore(catalog).create(job)
    with catalog.session() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job.job_id)
            .values(updated_at=now_ms() - untouched_s * 1000)
        )
    return job


def sweeper(jobs: JobStore, broker: Broker, registry: CollectorRegistry) -> JobSweeper:
    return JobSweeper(jobs, broker.task_ids, broker.send, registry, after_s=AFTER_S)


def resent(registry: CollectorRegistry, kind: str) -> float | None:
    return registry.get_sample_value("ingestworker_jobs_resent_total", {"kind": kind})


def test_a_stale_job_no_message_names_is_sent_again_with_its_task_and_id_once(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("lost-ingest", JobState.QUEUED, IMAGE, "a.png"))
    variant_params = {"variant_id": "cd" * 32}
    queued(
        catalog, Job("lost-variant", JobState.QUEUED, IMAGE, kind="variant", params=variant_params)
    )
    broker = Broker()
    sweep = sweeper(jobs, broker, registry)

    assert sorted(sweep.sweep()) == ["lost-ingest", "lost-variant"]

    assert sorted(broker.sent) == [
        (
            INGEST_TASK,
            INGEST_QUEUE,
            {"job_id": "lost-ingest", "image_id": IMAGE, "filename": "a.png"},
        ),
        (
            VARIANT_TASK,
            VARIANT_QUEUE,
            {"job_id": "lost-variant", "image_id": IMAGE, "variant_id": "cd" * 32},
        ),
    ]
    assert (resent(registry, "ingest"), resent(registry, "variant")) == (1, 1)
    assert sweep.sweep() == []  # its message is held now
    assert len(broker.sent) == 2
    assert jobs.get("lost-ingest").state is JobState.QUEUED  # the worker moves it, not the sweeper


def test_a_stale_job_whose_message_waits_or_is_held_unacked_is_left_alone(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("waiting", JobState.QUEUED, IMAGE, "a.png"))
    broker = Broker(held={"waiting"})
    assert sweeper(jobs, broker, registry).sweep() == []
    assert broker.sent == []
    assert resent(registry, "ingest") is None


def test_a_fresh_queued_job_is_left_alone_without_asking_the_broker(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("fresh", JobState.QUEUED, IMAGE, "a.png"), untouched_s=AFTER_S - 10)
    broker = Broker()
    assert sweeper(jobs, broker, registry).sweep() == []
    assert (broker.sent, broker.looks) == ([], 0)


def test_running_finished_and_capture_jobs_are_never_sent(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("running", JobState.PROCESSING, IMAGE, "a.png"))
    queued(catalog, Job("done", JobState.DONE, IMAGE, "a.png"))
    queued(catalog, Job("capture", JobState.QUEUED, kind="capture", params={"capture_id": "c"}))
    broker = Broker()
    assert sweeper(jobs, broker, registry).sweep() == []
    assert broker.sent == []


@pytest.mark.parametrize(
    "meanwhile",
    [
        pytest.param(lambda jobs: jobs.set_state("job", JobState.PROCESSING), id="taken"),
        pytest.param(lambda jobs: jobs.set_state("job", JobState.DONE), id="finished"),
        pytest.param(lambda jobs: jobs.set_state("job", JobState.QUEUED, "retrying"), id="retry"),
    ],
)
def test_a_job_whose_record_changed_while_the_broker_was_asked_is_not_sent(
    catalog: FailableCatalog,
    jobs: JobStore,
    registry: CollectorRegistry,
    meanwhile: Callable[[JobStore], None],
) -> None:
    queued(catalog, Job("job", JobState.QUEUED, IMAGE, "a.png"))
    broker = Broker()
    broker.on_look = lambda look: meanwhile(jobs) if look == 1 else None
    assert sweeper(jobs, broker, registry).sweep() == []
    assert broker.sent == []


def test_a_message_in_passing_missed_by_the_first_look_is_seen_by_the_second(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("moving", JobState.QUEUED, IMAGE, "a.png"))
    broker = Broker()
    broker.on_look = lambda look: broker.held.add("moving") if look == 2 else None
    assert sweeper(jobs, broker, registry).sweep() == []
    assert (broker.sent, broker.looks) == ([], 2)


def test_the_thread_sweeps_soon_after_start_and_again_after_a_broker_outage(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("lost", JobState.QUEUED, IMAGE, "a.png"))
    broker = Broker()
    broker.down_for_looks = 1
    sweep = sweeper(jobs, broker, registry)
    sweep.start(interval_s=0.05, first_after_s=0)
    try:
        wait_until(lambda: broker.sent, 5, "the lost job to be sent again")
    finally:
        sweep.stop()
    assert [kwargs["job_id"] for _, _, kwargs in broker.sent] == ["lost"]
    assert broker.looks >= 3  # the failed look, then two that found it missing


def test_an_interval_of_zero_starts_no_sweeping_thread(
    catalog: FailableCatalog, jobs: JobStore, registry: CollectorRegistry
) -> None:
    queued(catalog, Job("lost", JobState.QUEUED, IMAGE, "a.png"))
    sweep = sweeper(jobs, Broker(), registry)
    sweep.start(interval_s=0, first_after_s=0)
    try:
        assert "job-sweeper" not in {thread.name for thread in threading.enumerate()}
    finally:
        sweep.stop()
