"""The library sample a query's background is read on: taken once, renewed without waiting.

The sampler is a fake of the vector store's ``sample`` that hands out the rows it is given, one
set per call, and can hold a call until the test lets it go; time is a clock the test moves.
"""

import threading

import numpy as np

from searchapi.service.background import LibraryBackground
from tests.support.processes import wait_until

QUERY = np.array([1.0, 0.0], dtype=np.float32)
OLD = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
NEW = np.array([[0.6, 0.8]], dtype=np.float32)
EMPTY = np.empty((0, 0), dtype=np.float32)
MAX_AGE_S = 60.0


class Sampler:
    def __init__(self, *answers: np.ndarray | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    def sample(self, count: int) -> np.ndarray:
        self.calls += 1
        self.release.wait(10)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer[:count]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def background(sampler: Sampler, clock: Clock) -> LibraryBackground:
    return LibraryBackground(sampler, size=8, max_age_s=MAX_AGE_S, clock=clock)


def test_the_first_search_samples_and_later_ones_reuse_the_sample() -> None:
    sampler, clock = Sampler(OLD), Clock()
    library = background(sampler, clock)
    assert library.scores(QUERY).tolist() == [1.0, 0.0]
    clock.now += MAX_AGE_S / 2
    assert library.scores(QUERY).tolist() == [1.0, 0.0]
    assert sampler.calls == 1


def test_a_stale_sample_answers_while_a_new_one_is_taken() -> None:
    sampler, clock = Sampler(OLD, NEW), Clock()
    library = background(sampler, clock)
    library.scores(QUERY)
    clock.now += MAX_AGE_S + 1
    sampler.release.clear()
    assert library.scores(QUERY).tolist() == [1.0, 0.0]  # not waiting for the held renewal
    assert library.scores(QUERY).tolist() == [1.0, 0.0]  # and not starting a second one
    sampler.release.set()
    wait_until(lambda: library.scores(QUERY).tolist() == [np.float32(0.6)], 5, "the new sample")
    assert sampler.calls == 2


def test_an_empty_library_is_sampled_again_until_pictures_arrive() -> None:
    sampler, clock = Sampler(EMPTY, NEW), Clock()
    library = background(sampler, clock)
    assert library.scores(QUERY).size == 0
    library.scores(QUERY)  # no time passed, but an empty sample is renewed at once
    wait_until(lambda: library.scores(QUERY).size == 1, 5, "the library's first sample")


def test_a_failed_renewal_keeps_the_old_sample_and_a_later_search_tries_again() -> None:
    sampler, clock = Sampler(OLD, ConnectionError("milvus is down"), NEW), Clock()
    library = background(sampler, clock)
    library.scores(QUERY)
    clock.now += MAX_AGE_S + 1
    seen: list[list[float]] = []

    def renewed() -> bool:
        seen.append(library.scores(QUERY).tolist())
        return seen[-1] == [np.float32(0.6)]

    wait_until(renewed, 5, "a renewal after the failed one", interval=0.01)
    assert sampler.calls == 3
    assert all(scores in ([1.0, 0.0], [np.float32(0.6)]) for scores in seen)
