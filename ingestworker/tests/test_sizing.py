"""How many jobs the worker runs at once, and how many decoded pictures it holds: as configured,
else sized for the machine's cores and the model's device."""

import os

from ingestworker.config import WorkerOptions, decoded_in_flight, jobs_in_flight

CORES = len(os.sched_getaffinity(0))


def test_a_configured_concurrency_is_kept_on_any_device() -> None:
    options = WorkerOptions(concurrency=3)
    assert jobs_in_flight(options, "cpu", 32) == jobs_in_flight(options, "cuda", 256) == 3


def test_auto_concurrency_on_cpu_holds_a_waiting_full_batch_besides_the_cores_work() -> None:
    assert jobs_in_flight(WorkerOptions(), "cpu", 32) == max(8, 32 + 4 * CORES)
    assert jobs_in_flight(WorkerOptions(), "cpu", 1) == max(8, 1 + 4 * CORES)


def test_auto_concurrency_on_cuda_is_per_core_whatever_the_batch() -> None:
    assert jobs_in_flight(WorkerOptions(), "cuda", 256) == max(8, 6 * CORES)


def test_decoded_pictures_are_two_per_core_within_the_concurrency_unless_configured() -> None:
    assert decoded_in_flight(WorkerOptions(), 1000) == max(4, 2 * CORES)
    assert decoded_in_flight(WorkerOptions(), 3) == 3
    assert decoded_in_flight(WorkerOptions(max_decoded=2), 12) == 2
