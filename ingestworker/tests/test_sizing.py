"""How many jobs the worker runs at once, and how many decoded pictures it holds: as configured,
else sized for the machine's cores and the model's device."""

import os

from ingestworker.config import WorkerOptions, decoded_in_flight, jobs_in_flight

CORES = len(os.sched_getaffinity(0))


def test_a_configured_concurrency_is_kept_on_any_device() -> None:
    options = WorkerOptions(concurrency=3)
    assert jobs_in_flight(options, "cpu") == jobs_in_flight(options, "cuda") == 3


def test_auto_concurrency_is_several_jobs_per_core_and_more_on_cuda() -> None:
    on_cpu, on_cuda = (
        jobs_in_flight(WorkerOptions(), "cpu"),
        jobs_in_flight(WorkerOptions(), "cuda"),
    )
    assert on_cpu == max(8, 4 * CORES)
    assert on_cuda == max(8, 6 * CORES) >= on_cpu


def test_decoded_pictures_are_bounded_by_the_concurrency_unless_configured() -> None:
    assert decoded_in_flight(WorkerOptions(), 12) == 12
    assert decoded_in_flight(WorkerOptions(max_decoded=2), 12) == 2
